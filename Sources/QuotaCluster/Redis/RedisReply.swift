/// A Redis reply, copied out of hiredis's reply tree (which is freed right after).
public enum RedisReply: Sendable, Equatable {
    case status(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8])
    case array([RedisReply])
    case null

    /// The integer value of an integer reply, or of a bulk string holding digits.
    public var integer: Int64? {
        switch self {
        case .integer(let v): return v
        case .bulk(let bytes): return Int64(String(decoding: bytes, as: UTF8.self))
        default: return nil
        }
    }

    public var string: String? {
        switch self {
        case .status(let s), .error(let s): return s
        case .bulk(let bytes): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }
}

/// Why a Redis call failed. Never carries command arguments (they may hold a password).
public enum RedisClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No connection could be made (refused, unreachable, connect timeout).
    case connect(String)
    /// The connection broke or a command timed out; the client reconnects on the next call.
    case io(String)
    /// Still waiting out the reconnect backoff after a failure; nothing was sent.
    case backingOff(retryInMilliseconds: UInt64)
    /// The server answered with an error (e.g. WRONGPASS, NOSCRIPT, a script error).
    case server(String)
    /// The reply did not have the expected shape.
    case unexpectedReply(String)

    public var description: String {
        switch self {
        case .connect(let why): return "cannot connect to Redis: \(why)"
        case .io(let why): return "Redis connection failed: \(why)"
        case .backingOff(let ms): return "Redis unavailable; next connection attempt in \(ms) ms"
        case .server(let message): return "Redis error: \(message)"
        case .unexpectedReply(let what): return "unexpected Redis reply: \(what)"
        }
    }
}
