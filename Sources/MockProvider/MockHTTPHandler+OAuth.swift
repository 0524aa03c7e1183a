import Foundation
import NIOCore
import NIOHTTP1

/// Google's OAuth token endpoint for service accounts (`POST /token`, the JWT-bearer grant): the
/// assertion must be a three-part JWT with an RS256 header and iss/aud/scope claims. The
/// signature is not checked here (the mock has no public keys); the gateway's tests verify it.
extension MockHTTPHandler {
    func oauthToken(context: ChannelHandlerContext, head: HTTPRequestHead, body: [UInt8]) {
        var form: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { form[String(kv[0])] = String(kv[1]).removingPercentEncoding }
        }
        func deny(_ why: String) {
            respond(context: context, head: head, status: .badRequest, json: "{\"error\":\"invalid_grant\",\"error_description\":\"\(why)\"}")
        }
        guard form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer" else { return deny("Invalid grant_type") }
        let parts = (form["assertion"] ?? "").split(separator: ".").map(String.init)
        guard parts.count == 3,
              let header = Self.base64urlJSON(parts[0]), header["alg"] as? String == "RS256",
              let claims = Self.base64urlJSON(parts[1]), claims["iss"] is String, claims["aud"] is String, claims["scope"] is String,
              let exp = claims["exp"] as? Int, exp > Int(Date().timeIntervalSince1970) else {
            return deny("Invalid JWT")
        }
        respond(context: context, head: head, status: .ok,
                json: "{\"access_token\":\"ya29.mock-\(Self.counter.next())\",\"expires_in\":3599,\"token_type\":\"Bearer\"}")
    }

    static func base64urlJSON(_ s: String) -> [String: Any]? {
        var b = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b.count % 4 != 0 { b += "=" }
        guard let data = Data(base64Encoded: b) else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }
}
