import Config

/// Where and how to reach one provider: parsed once per config generation from the provider's
/// `base_url`, so the hot path never parses URLs.
public struct UpstreamTarget: Sendable, Hashable {
    public var scheme: Scheme
    public var host: String
    public var port: Int
    /// Path prefix from the base URL without a trailing slash, e.g. `/v1` or `` (empty).
    public var basePath: String

    public enum Scheme: String, Sendable, Hashable {
        case http
        case https
    }

    /// The value of the `Host` header: the port is omitted when it is the scheme's default.
    public var hostHeader: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        switch (scheme, port) {
        case (.http, 80), (.https, 443): return bracketed
        default: return "\(bracketed):\(port)"
        }
    }

    /// Pool key: connections are shared between providers that point at the same origin.
    public var origin: String { "\(scheme.rawValue)://\(hostHeader)" }

    public init(scheme: Scheme, host: String, port: Int, basePath: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
    }

    /// Parses `scheme://host[:port][/path]`. The config validator has already accepted the URL,
    /// so failures here mean a snapshot from an incompatible writer.
    public init?(baseURL: String) {
        let scheme: Scheme
        var rest: Substring
        if baseURL.hasPrefix("https://") {
            scheme = .https
            rest = baseURL.dropFirst(8)
        } else if baseURL.hasPrefix("http://") {
            scheme = .http
            rest = baseURL.dropFirst(7)
        } else {
            return nil
        }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        while path.hasSuffix("/") { path.removeLast() }
        rest = authority
        var host: String
        var port: Int
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.isEmpty {
                port = scheme == .https ? 443 : 80
            } else {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()) else { return nil }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let p = Int(rest[rest.index(after: colon)...]) else { return nil }
            port = p
        } else {
            host = String(rest)
            port = scheme == .https ? 443 : 80
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        host = host.lowercased()
        self.init(scheme: scheme, host: host, port: port, basePath: path)
    }
}
