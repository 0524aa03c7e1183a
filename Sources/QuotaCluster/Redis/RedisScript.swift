/// A Lua script run with EVALSHA; its SHA-1 is learnt from SCRIPT LOAD (so no hashing here)
/// and reloaded when the server answers NOSCRIPT (a restarted or flushed Redis).
public struct RedisScript: Sendable, Hashable {
    public let source: String

    public init(_ source: String) {
        self.source = source
    }
}
