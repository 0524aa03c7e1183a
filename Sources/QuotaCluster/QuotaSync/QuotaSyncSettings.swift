/// Settings of the controller's quota sync (Redis endpoint, cadence, key prefix) and of the
/// quota table's garbage collection. Config mapping (YAML → this) lives with the config
/// schema; this type only validates what it is given.
public struct QuotaSyncSettings: Sendable, Equatable, CustomStringConvertible {
    /// nil = no Redis: cluster limits are enforced per pod (`ClusterSyncState.none`) and the
    /// loop only collects garbage.
    public var redis: RedisClient.Endpoint?
    /// Milliseconds between sync rounds (the overshoot bound grows with it).
    public var intervalMilliseconds: Int
    /// Prefix of every Redis key; pods sharing one quota must use the same prefix.
    public var keyPrefix: String
    /// Keys per script call (one pipelined EVALSHA per batch).
    public var batchSize: Int
    /// Milliseconds between garbage-collection passes over the table.
    public var gcIntervalMilliseconds: Int
    /// How long a slot stays after its limit came to rest (a GCRA TAT in the past, a window
    /// that ended): late settlements of long streams still find it.
    public var gcGraceSeconds: Int
    /// How long Redis keeps a pod's lease without hearing from it: a dead pod's unused units
    /// come back after at most this long; live pods renew every third of it.
    public var leaseTTLMilliseconds: Int

    public init(redis: RedisClient.Endpoint? = nil, intervalMilliseconds: Int = 200, keyPrefix: String = "tollgate:quota:",
                batchSize: Int = 256, gcIntervalMilliseconds: Int = 5_000, gcGraceSeconds: Int = 600, leaseTTLMilliseconds: Int = 3_000) {
        self.redis = redis
        self.intervalMilliseconds = intervalMilliseconds
        self.keyPrefix = keyPrefix
        self.batchSize = batchSize
        self.gcIntervalMilliseconds = gcIntervalMilliseconds
        self.gcGraceSeconds = gcGraceSeconds
        self.leaseTTLMilliseconds = leaseTTLMilliseconds
    }

    /// Parses `redis://[[user]:password@]host[:port][/db]` (the password may instead come
    /// from a secret file or env var; pass it in `password`, which wins).
    public static func endpoint(url: String, password: String? = nil) throws(QuotaSyncSettingsError) -> RedisClient.Endpoint {
        guard url.hasPrefix("redis://") else { throw .init("redis url must start with redis://") }
        var rest = Substring(url.dropFirst("redis://".count))
        var user: String?
        var secret: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = credentials[..<colon].isEmpty ? nil : String(credentials[..<colon])
                secret = String(credentials[credentials.index(after: colon)...])
            } else {
                secret = String(credentials)
            }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            guard db.isEmpty || Int(db) != nil else { throw .init("redis url: database \"\(db)\" is not a number") }
            database = Int(db) ?? 0
            rest = rest[..<slash]
        }
        var host = String(rest)
        var port = 6379
        if let colon = rest.lastIndex(of: ":"), !rest.hasPrefix("[") || rest[..<colon].hasSuffix("]") {
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else {
                throw .init("redis url: port must be 1-65535")
            }
            port = p
            host = String(rest[..<colon])
        }
        host = host.trimmingPrefix("[").split(separator: "]").first.map(String.init) ?? host
        guard !host.isEmpty else { throw .init("redis url has no host") }
        return RedisClient.Endpoint(host: host, port: port, username: user, password: password ?? secret, database: database)
    }

    /// Problems with the numbers, for the config validator.
    public var problems: [String] {
        var out: [String] = []
        if !(10...10_000).contains(intervalMilliseconds) { out.append("interval must be 10-10000 ms") }
        if keyPrefix.isEmpty { out.append("key prefix must not be empty") }
        if !(1...10_000).contains(batchSize) { out.append("batch size must be 1-10000") }
        if gcIntervalMilliseconds < 100 { out.append("gc interval must be at least 100 ms") }
        if gcGraceSeconds < 0 { out.append("gc grace must not be negative") }
        if leaseTTLMilliseconds < 3 * intervalMilliseconds { out.append("lease ttl must be at least three sync intervals") }
        return out
    }

    public var description: String {
        "quota sync: \(redis.map { $0.description } ?? "no redis"), every \(intervalMilliseconds) ms, leases for \(leaseTTLMilliseconds) ms, prefix \(keyPrefix)"
    }
}

/// A settings value that cannot be used, with what to fix.
public struct QuotaSyncSettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
