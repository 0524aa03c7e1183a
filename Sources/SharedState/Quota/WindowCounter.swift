/// A fixed-window counter as pure arithmetic: `count + cost ≤ limit` inside the window
/// `[start, end)`, which a new slot key replaces when it ends (the window id is part of the
/// key), so there is nothing to reset. Used for USD budgets per calendar day or month.
/// Overflow-safe: the comparison is `cost ≤ limit − count`, never a sum that could wrap.
public struct WindowCounter: Sendable, Hashable {
    public let limit: UInt64

    public init(limit: UInt64) {
        self.limit = limit
    }

    /// The outcome of one decision; `newCount` is what to store when `admitted`.
    public struct Decision: Sendable, Hashable {
        public var admitted: Bool
        public var newCount: UInt64
        /// Nanoseconds until the same request could be admitted (the window's end); `nil` = never.
        public var retryAfter: UInt64?
        public var remaining: UInt64
        /// Nanoseconds until the window ends.
        public var resetAfter: UInt64
    }

    public func decide(count: UInt64, cost: UInt64, now: UInt64, windowEnd: UInt64) -> Decision {
        let resetAfter = windowEnd.subtractingSaturating(now)
        let left = limit.subtractingSaturating(count)
        if cost <= left {
            return Decision(admitted: true, newCount: count + cost, retryAfter: 0, remaining: left - cost, resetAfter: resetAfter)
        }
        return Decision(admitted: false, newCount: count, retryAfter: cost > limit ? nil : resetAfter,
                        remaining: left, resetAfter: resetAfter)
    }
}
