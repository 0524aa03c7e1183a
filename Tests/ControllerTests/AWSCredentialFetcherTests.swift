import Config
import Foundation
import Testing
@testable import Controller

/// Temporary AWS credentials: the JSON every source answers, `credential_process`, and how the
/// refresher reuses, renews and reports them.
@Suite struct AWSCredentialFetcherTests {
    @Test func parsesTheSharedJSONShape() throws {
        let imds = #"{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIA1","SecretAccessKey":"s","Token":"t","Expiration":"2026-11-25T12:00:00Z"}"#
        let f = try AWSCredentialFetcher.parse(Data(imds.utf8), now: 0, what: "imds")
        #expect(f.credentials == .init(accessKeyID: "ASIA1", secretAccessKey: Secret("s"), sessionToken: Secret("t")))
        #expect(f.expiresAt == 1_795_608_000)
        let process = #"{"Version":1,"AccessKeyId":"AKIA2","SecretAccessKey":"s2","SessionToken":"t2"}"#
        let p = try AWSCredentialFetcher.parse(Data(process.utf8), now: 100, what: "process")
        #expect(p.credentials.sessionToken == Secret("t2") && p.expiresAt == 100 + AWSCredentialFetcher.defaultLifetime)
        for bad in [#"{"SecretAccessKey":"s"}"#, #"{"AccessKeyId":"A","SecretAccessKey":"s","Expiration":"tomorrow"}"#,
                    #"{"Code":"AssumeRoleUnauthorizedAccess","AccessKeyId":"A","SecretAccessKey":"s"}"#, "not json"] {
            #expect(throws: AWSCredentialFetcher.FetchError.self, "\(bad)") { try AWSCredentialFetcher.parse(Data(bad.utf8), now: 0, what: "x") }
        }
    }

    @Test func stsAnswersAreReadByTag() throws {
        let xml = """
            <AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>
              <AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>s/x+y</SecretAccessKey>
              <SessionToken>tok</SessionToken><Expiration>2026-11-25T12:00:00Z</Expiration>
            </Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>
            """
        #expect(AWSCredentialFetcher.element("AccessKeyId", in: xml) == "ASIAX")
        #expect(AWSCredentialFetcher.element("SecretAccessKey", in: xml) == "s/x+y")
        #expect(AWSCredentialFetcher.element("Missing", in: xml) == nil)
        let dir = NSTemporaryDirectory() + "tg-irsa-\(UUID().uuidString)"
        #expect(throws: AWSCredentialFetcher.FetchError.self) {
            try AWSCredentialFetcher.fetch(.webIdentity(roleARN: "arn:aws:iam::1:role/r", tokenFile: dir + "/missing", sessionName: "s", stsEndpoint: "http://127.0.0.1:1"), now: 0)
        }
    }

    @Test func errorsNeverCarryTheSecret() throws {
        do {
            _ = try AWSCredentialFetcher.parse(Data(#"{"Code":"Expired","AccessKeyId":"A","SecretAccessKey":"TOPSECRET"}"#.utf8), now: 0, what: "imds")
            Issue.record("must throw")
        } catch {
            #expect(!"\(error)".contains("TOPSECRET"))
        }
    }

    @Test func credentialProcessRunsThroughTheShell() throws {
        let ok = try AWSCredentialFetcher.fetch(.process(command: #"printf '{"Version":1,"AccessKeyId":"AKP","SecretAccessKey":"sp","Expiration":"2030-01-01T00:00:00Z"}'"#), now: 0)
        #expect(ok.credentials.accessKeyID == "AKP" && ok.expiresAt == 1_893_456_000)
        #expect(throws: AWSCredentialFetcher.FetchError.self) { try AWSCredentialFetcher.fetch(.process(command: "exit 3"), now: 0) }
        #expect(throws: AWSCredentialFetcher.FetchError.self) {
            try AWSCredentialFetcher.fetch(.process(command: #"echo '{"Version":2,"AccessKeyId":"A","SecretAccessKey":"s"}'"#), now: 0)
        }
        #expect(throws: AWSCredentialFetcher.FetchError.self) {
            try AWSCredentialFetcher.process("sleep 5", now: 0, timeout: 0.3)
        }
    }

    @Test func refresherReusesValidCredentialsAndRenewsDueOnes() throws {
        var provider = GatewayConfig.Provider(name: "aws", kind: .bedrock, baseURL: "https://bedrock-runtime.us-east-1.amazonaws.com")
        provider.awsRegion = "us-east-1"
        provider.awsCredentialSource = .process(command: #"printf '{"Version":1,"AccessKeyId":"NEW","SecretAccessKey":"s","Expiration":"2030-01-01T00:00:00Z"}'"#)
        let config = GatewayConfig(listeners: [], providers: [provider], models: [], routes: [], apiKeys: [])
        var previous = config
        previous.providers[0].awsCredentials = .init(accessKeyID: "OLD", secretAccessKey: Secret("o"), sessionToken: nil)
        previous.providers[0].awsCredentialsExpireAt = 10_000

        let reused = try CredentialRefresher.refresh(config, previous: previous, now: 1_000)
        #expect(reused.providers[0].awsCredentials?.accessKeyID == "OLD")
        #expect(CredentialRefresher.nextRefresh(reused) == 10_000 - CredentialRefresher.margin)

        let renewed = try CredentialRefresher.refresh(config, previous: previous, now: 10_000 - CredentialRefresher.margin)
        #expect(renewed.providers[0].awsCredentials?.accessKeyID == "NEW" && renewed.providers[0].awsCredentialsExpireAt == 1_893_456_000)

        var broken = config
        broken.providers[0].awsCredentialSource = .imds(endpoint: "http://127.0.0.1:1")
        do {
            _ = try CredentialRefresher.refresh(broken, now: 0)
            Issue.record("an unreachable metadata service must fail the refresh")
        } catch {
            #expect("\(error)".contains("provider aws: cannot obtain AWS credentials (imds)"))
        }
    }
}
