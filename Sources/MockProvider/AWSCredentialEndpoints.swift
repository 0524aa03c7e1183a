import NIOCore
import NIOHTTP1
import TollgateCore

/// The two AWS credential services a Bedrock provider can be configured to use, so the
/// gateway's `aws_credentials_source` is tested without AWS:
/// - EC2's instance metadata service, IMDSv2 only (as AWS recommends and many accounts
///   enforce): `PUT /latest/api/token` with a TTL header, then
///   `GET /latest/meta-data/iam/security-credentials/` (the role name) and `…/{role}` (the
///   credentials), both with the session token header; without it, 401 like IMDSv2.
/// - The ECS / EKS Pod Identity container endpoint, `GET /mock/aws/container-credentials`,
///   which wants an `Authorization` header as the EKS agent does.
/// - STS `AssumeRoleWithWebIdentity` (EKS IRSA), `POST /mock/aws/sts` with the form STS takes
///   (a role ARN and a three-part web identity token), answered in STS's XML.
/// Credentials expire an hour from now; their key ids say which service minted them.
enum AWSCredentialEndpoints {
    static let role = "tollgate-mock-role"
    static let sessionPrefix = "mock-imds-session-"

    static func imdsToken(_ request: MockRequest, ids: MockIDs) -> MockReply {
        guard request.head.method == .PUT else { return text(.methodNotAllowed, "") }
        guard let ttl = request.head.headers.first(name: "x-aws-ec2-metadata-token-ttl-seconds").flatMap({ Int($0) }), (1...21600).contains(ttl) else {
            return text(.badRequest, "")
        }
        return text(.ok, sessionPrefix + ids.next(""))
    }

    /// `rest` is what follows `/latest/meta-data/iam/security-credentials/`.
    static func imdsCredentials(_ request: MockRequest, rest: Substring, now: Int) -> MockReply {
        guard request.head.method == .GET else { return text(.methodNotAllowed, "") }
        guard request.head.headers.first(name: "x-aws-ec2-metadata-token")?.hasPrefix(sessionPrefix) == true else {
            return text(.unauthorized, "")
        }
        if rest.isEmpty { return text(.ok, role) }
        guard rest == role else { return text(.notFound, "") }
        return credentials(keyID: "ASIAMOCKIMDS", now: now, extra: true)
    }

    static func container(_ request: MockRequest, now: Int) -> MockReply {
        guard request.head.method == .GET else { return text(.methodNotAllowed, "") }
        guard let auth = request.head.headers.first(name: "authorization"), !auth.isEmpty else {
            var b = ByteBuffer()
            b.writeStaticString("{\"code\":\"AccessDeniedException\",\"message\":\"Authorization header is missing\"}")
            return .json(.unauthorized, b)
        }
        return credentials(keyID: "ASIAMOCKCONTAINER", now: now, extra: false)
    }

    static func sts(_ request: MockRequest, now: Int) -> MockReply {
        guard request.head.method == .POST else { return text(.methodNotAllowed, "") }
        var form: [Substring: String] = [:]
        for pair in String(decoding: request.body.readableBytesView, as: UTF8.self).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { form[kv[0]] = PercentDecoding.decode(kv[1], plusIsSpace: true) }
        }
        func stsError(_ code: String, _ message: String) -> MockReply {
            var h = HTTPHeaders()
            h.add(name: "content-type", value: "text/xml")
            return MockReply(status: .badRequest, headers: h, body: .complete(ByteBuffer(string:
                "<ErrorResponse><Error><Type>Sender</Type><Code>\(code)</Code><Message>\(message)</Message></Error></ErrorResponse>")))
        }
        guard form["Action"] == "AssumeRoleWithWebIdentity", form["Version"] == "2011-06-15" else {
            return stsError("InvalidAction", "Could not find operation")
        }
        guard form["RoleArn"]?.hasPrefix("arn:aws:iam::") == true, form["RoleSessionName"]?.isEmpty == false else {
            return stsError("ValidationError", "RoleArn and RoleSessionName are required")
        }
        guard let token = form["WebIdentityToken"], token.split(separator: ".", omittingEmptySubsequences: false).count == 3 else {
            return stsError("InvalidIdentityToken", "The web identity token is not a JWT")
        }
        var h = HTTPHeaders()
        h.add(name: "content-type", value: "text/xml")
        let xml = """
            <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
              <AssumeRoleWithWebIdentityResult>
                <Credentials>
                  <AccessKeyId>ASIAMOCKIRSA</AccessKeyId>
                  <SecretAccessKey>mock-temporary-secret</SecretAccessKey>
                  <SessionToken>mock-session-token-asiamockirsa</SessionToken>
                  <Expiration>\(UTCTime.rfc3339(now + 3600))</Expiration>
                </Credentials>
              </AssumeRoleWithWebIdentityResult>
            </AssumeRoleWithWebIdentityResponse>
            """
        return MockReply(status: .ok, headers: h, body: .complete(ByteBuffer(string: xml)))
    }

    private static func credentials(keyID: String, now: Int, extra: Bool) -> MockReply {
        var b = ByteBuffer()
        b.writeStaticString("{")
        if extra { b.writeStaticString("\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",") }
        b.writeStaticString("\"AccessKeyId\":")
        b.writeJSONString(keyID)
        b.writeStaticString(",\"SecretAccessKey\":\"mock-temporary-secret\",\"Token\":")
        b.writeJSONString("mock-session-token-" + keyID.lowercased())
        b.writeStaticString(",\"Expiration\":")
        b.writeJSONString(UTCTime.rfc3339(now + 3600))
        b.writeStaticString("}")
        return .json(.ok, b)
    }

    private static func text(_ status: HTTPResponseStatus, _ body: String) -> MockReply {
        var h = HTTPHeaders()
        h.add(name: "content-type", value: "text/plain")
        return MockReply(status: status, headers: h, body: .complete(ByteBuffer(string: body)))
    }
}
