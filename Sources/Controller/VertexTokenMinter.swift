import _CryptoExtras
import Config
import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Turns a Vertex AI service-account key into an OAuth access token (the JWT-bearer grant:
/// an RS256-signed assertion POSTed to the key's `token_uri`), so workers only ever hold a
/// short-lived bearer token, never the private key's use. The controller mints tokens when it
/// compiles a config and again before they expire (`CredentialRefresher`).
enum VertexTokenMinter {
    static let scope = "https://www.googleapis.com/auth/cloud-platform"

    struct Token: Equatable {
        var accessToken: String
        var expiresAt: Int
    }

    enum MintError: Error, CustomStringConvertible {
        case badKey(String)
        case http(String)

        var description: String {
            switch self {
            case .badKey(let why): return "the service-account private key cannot be used: \(why)"
            case .http(let why): return "the token endpoint refused or failed: \(why)"
            }
        }
    }

    /// The signed JWT assertion for `now` (unix seconds).
    static func assertion(for settings: GatewayConfig.VertexSettings, now: Int) throws -> String {
        let header = base64url(Array(#"{"alg":"RS256","typ":"JWT"}"#.utf8))
        let claims: [String: Any] = ["iss": settings.clientEmail, "scope": scope, "aud": settings.tokenURI, "iat": now, "exp": now + 3600]
        let payload = base64url(Array(try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])))
        let signingInput = header + "." + payload
        let key: _RSA.Signing.PrivateKey
        do {
            key = try _RSA.Signing.PrivateKey(pemRepresentation: settings.privateKeyPEM.value)
        } catch {
            throw MintError.badKey("\(error)")
        }
        let signature = try key.signature(for: Array(signingInput.utf8), padding: .insecurePKCS1v1_5)
        return signingInput + "." + base64url(Array(signature.rawRepresentation))
    }

    /// Exchanges the assertion for an access token (blocking; the controller is not on a hot path).
    static func mint(_ settings: GatewayConfig.VertexSettings, now: Int = Int(Date().timeIntervalSince1970), timeout: Double = 15) throws -> Token {
        let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
        let form = "grant_type=" + BlockingHTTP.formEncode(grant) + "&assertion=" + (try assertion(for: settings, now: now))
        let (status, data): (Int, Data)
        do {
            (status, data) = try BlockingHTTP.send("POST", settings.tokenURI, headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                                   body: Data(form.utf8), timeout: timeout)
        } catch {
            throw MintError.http("\(error)")
        }
        guard status == 200, let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let token = json["access_token"] as? String else {
            let body = String(decoding: data.prefix(300), as: UTF8.self)
            throw MintError.http("HTTP \(status): \(body)")
        }
        return Token(accessToken: token, expiresAt: now + (json["expires_in"] as? Int ?? 3600))
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
