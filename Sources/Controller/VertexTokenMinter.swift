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
        guard let url = URL(string: settings.tokenURI) else { throw MintError.http("token_uri \(settings.tokenURI) is not a URL") }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
        request.httpBody = Data(("grant_type=" + formEncode(grant) + "&assertion=" + (try assertion(for: settings, now: now))).utf8)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<(Data, Int), any Error> = .failure(MintError.http("no answer"))
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error {
                result = .failure(MintError.http("\(error.localizedDescription)"))
            } else {
                result = .success((data ?? Data(), (response as? HTTPURLResponse)?.statusCode ?? 0))
            }
            done.signal()
        }.resume()
        if done.wait(timeout: .now() + timeout + 1) == .timedOut { throw MintError.http("no answer within \(Int(timeout)) s") }
        let (data, status) = try result.get()
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

    static func formEncode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }
}

/// Fills in the short-lived credentials a config needs (Vertex access tokens) and says when
/// they must be renewed. Used by the supervisor for the first snapshot and by the controller
/// for every later one and for timed refreshes.
public enum CredentialRefresher {
    /// Refresh this long before a token expires.
    public static let margin = 300

    /// The config with fresh tokens where missing or due; throws naming the provider.
    public static func refresh(_ config: GatewayConfig, previous: GatewayConfig? = nil, now: Int = Int(Date().timeIntervalSince1970)) throws -> GatewayConfig {
        var out = config
        for (i, provider) in config.providers.enumerated() {
            guard var vertex = provider.vertex else { continue }
            if let old = previous?.providers.first(where: { $0.name == provider.name }), let oldVertex = old.vertex,
               oldVertex.clientEmail == vertex.clientEmail, oldVertex.tokenURI == vertex.tokenURI,
               oldVertex.tokenExpiresAt - margin > now, let token = old.apiKey {
                vertex.tokenExpiresAt = oldVertex.tokenExpiresAt
                out.providers[i].apiKey = token
                out.providers[i].vertex = vertex
                continue
            }
            do {
                let token = try VertexTokenMinter.mint(vertex, now: now)
                vertex.tokenExpiresAt = token.expiresAt
                out.providers[i].apiKey = Secret(token.accessToken)
                out.providers[i].vertex = vertex
            } catch {
                throw RefreshError(provider: provider.name, reason: "\(error)")
            }
        }
        return out
    }

    /// When the earliest token of `config` needs renewing (unix seconds), if any.
    public static func nextRefresh(_ config: GatewayConfig) -> Int? {
        config.providers.compactMap { $0.vertex?.tokenExpiresAt }.filter { $0 > 0 }.map { $0 - margin }.min()
    }

    public struct RefreshError: Error, CustomStringConvertible {
        public var provider: String
        public var reason: String
        public var description: String { "provider \(provider): cannot obtain a Vertex AI access token: \(reason)" }
    }
}
