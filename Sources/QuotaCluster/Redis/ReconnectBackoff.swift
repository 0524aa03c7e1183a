/// When the next connection attempt may be made: exponential backoff with a cap, as pure state
/// (the caller passes the clock), so a Redis that is down costs one failed connect per step
/// instead of one per sync round.
public struct ReconnectBackoff: Sendable, Equatable {
    public let initialMilliseconds: UInt64
    public let maximumMilliseconds: UInt64
    private(set) var current: UInt64 = 0
    private(set) var notBefore: UInt64 = 0

    public init(initialMilliseconds: UInt64 = 100, maximumMilliseconds: UInt64 = 5_000) {
        self.initialMilliseconds = initialMilliseconds
        self.maximumMilliseconds = max(initialMilliseconds, maximumMilliseconds)
    }

    /// Milliseconds to wait before the next attempt at `now` (0 = go ahead).
    public func wait(now: UInt64) -> UInt64 {
        notBefore > now ? notBefore - now : 0
    }

    /// A connection attempt failed at `now`: the next one waits twice as long (up to the cap).
    public mutating func failed(now: UInt64) {
        current = current == 0 ? initialMilliseconds : min(current * 2, maximumMilliseconds)
        notBefore = now + current
    }

    /// Connected: the next failure starts from the initial delay again.
    public mutating func succeeded() {
        current = 0
        notBefore = 0
    }
}
