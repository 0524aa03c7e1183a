import Crypto
import TollgateCore

/// AWS Signature Version 4 for one request (the parts Bedrock needs: header-based auth,
/// signed `host`, `content-type`, `x-amz-date` and, with temporary credentials,
/// `x-amz-security-token`). Pure apart from the clock read by `amzDate(now:)`; verified against
/// AWS's published test vectors and botocore.
struct SigV4Signer: Sendable {
    struct Credentials: Sendable, Equatable {
        var accessKeyID: String
        var secretAccessKey: String
        var sessionToken: String?
    }

    let credentials: Credentials
    let region: String
    let service: String

    /// The headers to add to the request: `x-amz-date`, `x-amz-security-token` (if any) and
    /// `authorization`. `path` and `query` are as sent on the wire (already percent-encoded).
    func sign(method: String, path: String, query: String, headers: [(String, String)], payload: [UInt8], amzDate: String) -> [(String, String)] {
        var all = headers.map { ($0.0.lowercased(), Self.trimmed($0.1)) }
        all.append(("x-amz-date", amzDate))
        if let token = credentials.sessionToken { all.append(("x-amz-security-token", token)) }
        all.sort { $0.0 < $1.0 }
        let signedHeaders = all.map(\.0).joined(separator: ";")
        let canonicalHeaders = all.map { "\($0.0):\($0.1)\n" }.joined()
        let canonicalRequest = [method, Self.canonicalPath(path), Self.canonicalQuery(query), canonicalHeaders, signedHeaders,
                                Self.hex(SHA256.hash(data: payload))].joined(separator: "\n")
        let date = String(amzDate.prefix(8))
        let scope = "\(date)/\(region)/\(service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n" + Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8)))
        var key = SymmetricKey(data: Array(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [date, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        var out: [(String, String)] = [("x-amz-date", amzDate)]
        if let token = credentials.sessionToken { out.append(("x-amz-security-token", token)) }
        out.append(("authorization", "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"))
        return out
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    static func amzDate(now seconds: Int) -> String {
        UTCTime.basic(seconds)
    }

    /// Every segment URI-encoded once more (non-S3 services sign the encoded path encoded again).
    static func canonicalPath(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        return path.split(separator: "/", omittingEmptySubsequences: false).map { uriEncode(String($0)) }.joined(separator: "/")
    }

    /// Parameters sorted by name then value, each side URI-encoded (after decoding what was sent).
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&").map { item -> (String, String) in
            let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (uriEncode(percentDecode(String(kv[0]))), uriEncode(percentDecode(kv.count > 1 ? String(kv[1]) : "")))
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    static func uriEncode(_ s: String) -> String {
        URIComponent.encode(s)
    }

    static func percentDecode(_ s: String) -> String {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%"), it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func trimmed(_ v: String) -> String {
        v.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in digest {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
