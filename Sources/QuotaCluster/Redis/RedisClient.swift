#if canImport(Glibc)
import Glibc
#endif
import CHiredis

/// A small blocking Redis client over hiredis, for the controller's quota-sync thread (never an
/// event loop: every call may block up to the command timeout).
///
/// - Connects lazily with a connect timeout, authenticates (`AUTH [user] password`) and selects
///   the database; every command has a timeout (SO_RCVTIMEO/SO_SNDTIMEO through hiredis).
/// - After any I/O error the connection is dropped (a hiredis context is unusable after one)
///   and the next call reconnects, no sooner than `ReconnectBackoff` allows.
/// - `pipeline` sends several commands in one write and reads the replies in order.
/// - `evaluate` runs a script with EVALSHA, loading it on first use and again on NOSCRIPT.
/// - Errors never contain command arguments, and `description` of the endpoint hides the
///   password, so nothing secret reaches a log.
/// Not thread-safe: one thread owns an instance.
public final class RedisClient {
    /// Where and how to connect.
    public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var username: String?
        public var password: String?
        public var database: Int
        public var connectTimeoutMilliseconds: Int
        public var commandTimeoutMilliseconds: Int

        public init(host: String, port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0,
                    connectTimeoutMilliseconds: Int = 500, commandTimeoutMilliseconds: Int = 500) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
            self.commandTimeoutMilliseconds = commandTimeoutMilliseconds
        }

        public var description: String {
            "redis://\(password == nil ? "" : "\(username ?? ""):***@")\(host):\(port)/\(database)"
        }
    }

    public let endpoint: Endpoint
    private var context: UnsafeMutablePointer<redisContext>?
    private var backoff: ReconnectBackoff
    private var scriptSHAs: [RedisScript: String] = [:]
    private let clock: () -> UInt64

    /// `clock` returns monotonic milliseconds (injectable for tests of the backoff).
    public init(endpoint: Endpoint, backoff: ReconnectBackoff = ReconnectBackoff(), clock: @escaping () -> UInt64 = RedisClient.monotonicMilliseconds) {
        self.endpoint = endpoint
        self.backoff = backoff
        self.clock = clock
    }

    deinit {
        if let context { redisFree(context) }
    }

    public var isConnected: Bool { context != nil }

    /// Drops the connection (the next call reconnects).
    public func disconnect() {
        if let context { redisFree(context) }
        context = nil
        scriptSHAs.removeAll()
    }

    /// Runs one command.
    public func command(_ arguments: [String]) throws(RedisClientError) -> RedisReply {
        try pipeline([arguments])[0]
    }

    /// Sends all commands in one write, then reads one reply per command, in order. Server
    /// errors come back as `.error` replies (one failing command does not fail the others);
    /// a broken connection throws.
    public func pipeline(_ commands: [[String]]) throws(RedisClientError) -> [RedisReply] {
        let ctx = try connected()
        for arguments in commands {
            append(ctx, arguments)
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            replies.append(try readReply(ctx))
        }
        return replies
    }

    /// Runs `script` with EVALSHA (SCRIPT LOAD first if this connection has not loaded it;
    /// once more if the server lost it). Server errors throw `.server`.
    public func evaluate(_ script: RedisScript, keys: [String], arguments: [String]) throws(RedisClientError) -> RedisReply {
        for attempt in 0..<2 {
            let sha = try load(script)
            let reply = try command(["EVALSHA", sha, String(keys.count)] + keys + arguments)
            if case .error(let message) = reply {
                if message.hasPrefix("NOSCRIPT") && attempt == 0 {
                    scriptSHAs[script] = nil
                    continue
                }
                throw .server(message)
            }
            return reply
        }
        throw .server("NOSCRIPT after SCRIPT LOAD")
    }

    /// Runs `script` once per argument set, pipelined; returns the replies in order. A
    /// NOSCRIPT reply reloads the script and re-sends the whole batch, so the script must be
    /// idempotent (the quota sync's is: it stores absolute values).
    public func evaluateBatch(_ script: RedisScript, calls: [(keys: [String], arguments: [String])]) throws(RedisClientError) -> [RedisReply] {
        for attempt in 0..<2 {
            let sha = try load(script)
            let replies = try pipeline(calls.map { ["EVALSHA", sha, String($0.keys.count)] + $0.keys + $0.arguments })
            if attempt == 0, replies.contains(where: { if case .error(let m) = $0 { return m.hasPrefix("NOSCRIPT") } else { return false } }) {
                scriptSHAs[script] = nil
                continue
            }
            return replies
        }
        throw .server("NOSCRIPT after SCRIPT LOAD")
    }

    private func load(_ script: RedisScript) throws(RedisClientError) -> String {
        if let sha = scriptSHAs[script] { return sha }
        let reply = try command(["SCRIPT", "LOAD", script.source])
        guard case .bulk = reply, let sha = reply.string else {
            throw .server("SCRIPT LOAD failed: \(reply.string ?? "no reply")")
        }
        scriptSHAs[script] = sha
        return sha
    }

    // MARK: - Connection

    private func connected() throws(RedisClientError) -> UnsafeMutablePointer<redisContext> {
        if let context { return context }
        let now = clock()
        let wait = backoff.wait(now: now)
        guard wait == 0 else { throw .backingOff(retryInMilliseconds: wait) }
        do {
            let ctx = try connect()
            backoff.succeeded()
            context = ctx
            return ctx
        } catch {
            backoff.failed(now: now)
            throw error
        }
    }

    private func connect() throws(RedisClientError) -> UnsafeMutablePointer<redisContext> {
        guard let ctx = redisConnectWithTimeout(endpoint.host, Int32(endpoint.port), Self.timeval(ms: endpoint.connectTimeoutMilliseconds)) else {
            throw .connect("out of memory")
        }
        if ctx.pointee.err != 0 {
            let why = Self.errorString(ctx)
            redisFree(ctx)
            throw .connect("\(endpoint.host):\(endpoint.port): \(why)")
        }
        redisSetTimeout(ctx, Self.timeval(ms: endpoint.commandTimeoutMilliseconds))
        do throws(RedisClientError) {
            if let password = endpoint.password {
                let auth = endpoint.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
                append(ctx, auth)
                if case .error(let message) = try readReply(ctx) {
                    throw .connect("authentication failed: \(message)")
                }
            }
            if endpoint.database != 0 {
                append(ctx, ["SELECT", String(endpoint.database)])
                if case .error(let message) = try readReply(ctx) {
                    throw .connect("SELECT \(endpoint.database) failed: \(message)")
                }
            }
        } catch {
            redisFree(ctx)
            throw error
        }
        return ctx
    }

    private func append(_ ctx: UnsafeMutablePointer<redisContext>, _ arguments: [String]) {
        let buffers = arguments.map { Array($0.utf8) }
        let pointers: [UnsafeMutablePointer<CChar>] = buffers.map { bytes in
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, bytes.count))
            bytes.withUnsafeBufferPointer { src in
                if let from = src.baseAddress { UnsafeMutableRawPointer(p).copyMemory(from: from, byteCount: bytes.count) }
            }
            return p
        }
        defer { pointers.forEach { $0.deallocate() } }
        var argv: [UnsafePointer<CChar>?] = pointers.map { UnsafePointer($0) }
        var lengths: [Int] = buffers.map(\.count)
        _ = redisAppendCommandArgv(ctx, Int32(arguments.count), &argv, &lengths)
    }

    private func readReply(_ ctx: UnsafeMutablePointer<redisContext>) throws(RedisClientError) -> RedisReply {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(ctx, &raw) == REDIS_OK, let raw else {
            let why = ctx.pointee.err != 0 ? Self.errorString(ctx) : "no reply"
            disconnect()
            throw .io(why)
        }
        defer { freeReplyObject(raw) }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let r = reply.pointee
        func text() -> [UInt8] {
            guard let str = r.str else { return [] }
            return Array(UnsafeRawBufferPointer(start: str, count: Int(r.len)))
        }
        switch r.type {
        case REDIS_REPLY_STATUS: return .status(String(decoding: text(), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: text(), as: UTF8.self))
        case REDIS_REPLY_INTEGER: return .integer(Int64(r.integer))
        case REDIS_REPLY_STRING: return .bulk(text())
        case REDIS_REPLY_ARRAY:
            var out: [RedisReply] = []
            for i in 0..<Int(r.elements) {
                if let element = r.element[i] { out.append(convert(element)) }
            }
            return .array(out)
        default: return .null
        }
    }

    private static func errorString(_ ctx: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: ctx.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private static func timeval(ms: Int) -> Glibc.timeval {
        Glibc.timeval(tv_sec: ms / 1000, tv_usec: (ms % 1000) * 1000)
    }

    public static func monotonicMilliseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
    }
}
