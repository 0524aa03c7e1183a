#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1

/// The two AWS credential services a Bedrock provider can be configured to use, so the
/// gateway's `aws_credentials_source` is tested without AWS:
/// - EC2's instance metadata service, IMDSv2 only (as AWS recommends and many accounts
///   enforce): `PUT /latest/api/token` with a TTL header, then
///   `GET /latest/meta-data/iam/security-credentials/` (the role name) and `…/{role}` (the
///   credentials), both with the session token header; without it, 401 like IMDSv2.
/// - The ECS / EKS Pod Identity container endpoint, `GET /mock/aws/container-credentials`,
///   which wants an `Authorization` header as the EKS agent does.
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

    private static func credentials(keyID: String, now: Int, extra: Bool) -> MockReply {
        var b = ByteBuffer()
        b.writeStaticString("{")
        if extra { b.writeStaticString("\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",") }
        b.writeStaticString("\"AccessKeyId\":")
        b.writeJSONString(keyID)
        b.writeStaticString(",\"SecretAccessKey\":\"mock-temporary-secret\",\"Token\":")
        b.writeJSONString("mock-session-token-" + keyID.lowercased())
        b.writeStaticString(",\"Expiration\":")
        b.writeJSONString(iso8601(now + 3600))
        b.writeStaticString("}")
        return .json(.ok, b)
    }

    private static func text(_ status: HTTPResponseStatus, _ body: String) -> MockReply {
        var h = HTTPHeaders()
        h.add(name: "content-type", value: "text/plain")
        return MockReply(status: status, headers: h, body: .complete(ByteBuffer(string: body)))
    }

    /// `2026-11-25T12:00:00Z`, without Foundation's formatter.
    static func iso8601(_ t: Int) -> String {
        var seconds = time_t(t)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
