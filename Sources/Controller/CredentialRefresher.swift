import Config
import Foundation

/// Fills in the short-lived credentials a config needs (Vertex AI access tokens, temporary AWS
/// credentials for Bedrock) and says when they must be renewed. Used by the supervisor for the
/// first snapshot and by the controller for every later one and for timed refreshes.
public enum CredentialRefresher {
    /// Refresh this long before a credential expires.
    public static let margin = 300

    /// The config with fresh credentials where missing or due; throws naming the provider.
    public static func refresh(_ config: GatewayConfig, previous: GatewayConfig? = nil, now: Int = Int(Date().timeIntervalSince1970)) throws -> GatewayConfig {
        var out = config
        for (i, provider) in config.providers.enumerated() {
            let old = previous?.providers.first { $0.name == provider.name }
            if var vertex = provider.vertex {
                if let old, let oldVertex = old.vertex,
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
                    throw RefreshError(provider: provider.name, reason: "cannot obtain a Vertex AI access token: \(error)")
                }
            }
            if let source = provider.awsCredentialSource {
                if let old, old.awsCredentialSource == source, old.awsCredentialsExpireAt - margin > now, let credentials = old.awsCredentials {
                    out.providers[i].awsCredentials = credentials
                    out.providers[i].awsCredentialsExpireAt = old.awsCredentialsExpireAt
                    continue
                }
                do {
                    let fetched = try AWSCredentialFetcher.fetch(source, now: now)
                    out.providers[i].awsCredentials = fetched.credentials
                    out.providers[i].awsCredentialsExpireAt = fetched.expiresAt
                } catch {
                    throw RefreshError(provider: provider.name, reason: "cannot obtain AWS credentials (\(source.name)): \(error)")
                }
            }
        }
        return out
    }

    /// When the earliest credential of `config` needs renewing (unix seconds), if any.
    public static func nextRefresh(_ config: GatewayConfig) -> Int? {
        let vertex = config.providers.compactMap { $0.vertex?.tokenExpiresAt }
        let aws = config.providers.filter { $0.awsCredentialSource != nil }.map(\.awsCredentialsExpireAt)
        return (vertex + aws).filter { $0 > 0 }.map { $0 - margin }.min()
    }

    public struct RefreshError: Error, CustomStringConvertible {
        public var provider: String
        public var reason: String
        public var description: String { "provider \(provider): \(reason)" }
    }
}
