import _CryptoExtras
import Config
import Crypto
import Foundation
import Testing
@testable import Controller

@Suite struct VertexTokenTests {
    @Test func assertionIsAnRS256JWTTheKeyVerifies() throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let settings = GatewayConfig.VertexSettings(project: "p", location: "l", clientEmail: "sa@p.iam.gserviceaccount.com",
                                                    privateKeyPEM: Secret(key.pemRepresentation), tokenURI: "https://oauth2.googleapis.com/token")
        let jwt = try VertexTokenMinter.assertion(for: settings, now: 1_700_000_000)
        let parts = jwt.split(separator: ".").map(String.init)
        #expect(parts.count == 3)
        func decode(_ s: String) -> Data {
            var b = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while b.count % 4 != 0 { b += "=" }
            return Data(base64Encoded: b) ?? Data()
        }
        let header = try JSONSerialization.jsonObject(with: decode(parts[0])) as? [String: String]
        #expect(header == ["alg": "RS256", "typ": "JWT"])
        let claims = try JSONSerialization.jsonObject(with: decode(parts[1])) as? [String: Any]
        #expect(claims?["iss"] as? String == "sa@p.iam.gserviceaccount.com")
        #expect(claims?["aud"] as? String == "https://oauth2.googleapis.com/token")
        #expect(claims?["scope"] as? String == "https://www.googleapis.com/auth/cloud-platform")
        #expect(claims?["iat"] as? Int == 1_700_000_000 && claims?["exp"] as? Int == 1_700_003_600)
        let signature = _RSA.Signing.RSASignature(rawRepresentation: decode(parts[2]))
        #expect(key.publicKey.isValidSignature(signature, for: Array((parts[0] + "." + parts[1]).utf8), padding: .insecurePKCS1v1_5))
    }

    @Test func aBrokenKeyIsNamedNotPrinted() {
        let settings = GatewayConfig.VertexSettings(project: "p", location: "l", clientEmail: "e", privateKeyPEM: Secret("not a key SECRET123"),
                                                    tokenURI: "https://x/token")
        do {
            _ = try VertexTokenMinter.assertion(for: settings, now: 0)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("private key cannot be used"))
            #expect(!"\(error)".contains("SECRET123"))
        }
    }

    @Test func tokensAreReusedUntilTheyAreDue() throws {
        var vertex = GatewayConfig.VertexSettings(project: "p", location: "l", clientEmail: "e", privateKeyPEM: Secret("k"), tokenURI: "https://x/token")
        vertex.tokenExpiresAt = 10_000
        var provider = GatewayConfig.Provider(name: "v", kind: .vertex, baseURL: "https://x", apiKey: Secret("tok"))
        provider.vertex = vertex
        let config = GatewayConfig(listeners: [.init(address: "127.0.0.1", port: 1)], providers: [provider], models: [], routes: [], apiKeys: [])
        #expect(CredentialRefresher.nextRefresh(config) == 10_000 - CredentialRefresher.margin)
        // Not due: the previous token is carried over without a network call.
        var fresh = config
        fresh.providers[0].apiKey = nil
        fresh.providers[0].vertex?.tokenExpiresAt = 0
        let refreshed = try CredentialRefresher.refresh(fresh, previous: config, now: 1_000)
        #expect(refreshed.providers[0].apiKey?.value == "tok")
        #expect(refreshed.providers[0].vertex?.tokenExpiresAt == 10_000)
    }
}
