import NIOCore

/// Google's OAuth token endpoint for service accounts (`POST /token`, the JWT-bearer grant):
/// the assertion must be a three-part JWT with an RS256 header, `iss`/`aud`/`scope` claims and
/// an `exp` in the future. The signature is not checked (the mock has no public keys; the
/// gateway's own tests verify it). The token it mints (`ya29.mock-…`) is what the Vertex AI
/// endpoint accepts.
enum OAuthTokenEndpoint {
    static let tokenPrefix = "ya29.mock-"

    static func reply(to request: MockRequest, ids: MockIDs, now: Int) -> MockReply {
        var form: [Substring: String] = [:]
        for pair in String(decoding: request.body.readableBytesView, as: UTF8.self).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { form[kv[0]] = PercentDecoding.decode(kv[1], plusIsSpace: true) }
        }
        guard form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer" else { return deny("Invalid grant_type") }
        let parts = (form["assertion"] ?? "").split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Base64.decode(parts[0]), let claims = Base64.decode(parts[1]) else {
            return deny("Invalid JWT")
        }
        let valid = header.withUnsafeBytes { h in
            claims.withUnsafeBytes { c in
                let hv = JSONView(bytes: h), cv = JSONView(bytes: c)
                guard let hr = try? hv.root(), let cr = try? cv.root() else { return false }
                guard hv.string(hv.member("alg", of: hr)) == "RS256" else { return false }
                for claim in ["iss", "aud", "scope"] where cv.string(cv.member(claim, of: cr)) == nil { return false }
                guard let exp = cv.int(cv.member("exp", of: cr)) else { return false }
                return exp > now
            }
        }
        guard valid else { return deny("Invalid JWT Signature or claims") }
        var b = ByteBuffer()
        b.writeStaticString("{\"access_token\":")
        b.writeJSONString(tokenPrefix + ids.next(""))
        b.writeStaticString(",\"expires_in\":3599,\"token_type\":\"Bearer\"}")
        return .json(.ok, b)
    }

    private static func deny(_ why: String) -> MockReply {
        var b = ByteBuffer()
        b.writeStaticString("{\"error\":\"invalid_grant\",\"error_description\":")
        b.writeJSONString(why)
        b.writeStaticString("}")
        return .json(.badRequest, b)
    }
}
