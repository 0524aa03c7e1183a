/// The generic cell rate algorithm, as pure arithmetic: no clock, no memory, no atomics.
///
/// A limit of `limit` cost units per `period` is one number per key, the theoretical arrival
/// time (TAT): the instant at which the bucket would be full again. A request of cost `c` at
/// `now` is admitted when `max(tat, now) + c·T ≤ now + period`, where `T = period / limit` is
/// the emission interval; admitting moves the TAT to that sum. Burst = `limit`, so a quiet key
/// may spend its whole allowance at once, and it comes back at the configured rate.
///
/// Every operation is overflow-safe: `c·period` is computed in 128 bits and increments
/// saturate at `UInt64.max`, so a huge cost is rejected (`retryAfter == nil`, "never") instead
/// of trapping. The increment is rounded *up*, so rounding never admits more than the limit.
/// A clock that steps backwards only makes the key wait longer (by at most the step); it never
/// admits more.
public struct GCRA: Sendable, Hashable {
    /// Cost units allowed per period (also the burst).
    public let limit: UInt64
    /// The period in nanoseconds.
    public let period: UInt64

    public init(limit: UInt64, period: UInt64) {
        precondition(limit > 0 && period > 0, "a GCRA limit needs a positive limit and period")
        self.limit = limit
        self.period = period
    }

    /// The outcome of one decision; `newTAT` is what to store when `admitted`.
    public struct Decision: Sendable, Hashable {
        public var admitted: Bool
        /// The TAT to CAS in (admitted) or the unchanged TAT (rejected).
        public var newTAT: UInt64
        /// Nanoseconds until the same request would be admitted; `nil` = never (cost > limit).
        public var retryAfter: UInt64?
        /// Whole cost units still available after this decision.
        public var remaining: UInt64
        /// Nanoseconds until the bucket is full again.
        public var resetAfter: UInt64
    }

    /// `cost · period / limit`, rounded up, saturating at `UInt64.max`.
    @inlinable
    public func increment(cost: UInt64) -> UInt64 {
        if cost == 0 { return 0 }
        let product = cost.multipliedFullWidth(by: period)
        if product.high >= limit { return .max }  // quotient would not fit in 64 bits
        let (q, r) = limit.dividingFullWidth((high: product.high, low: product.low))
        return r == 0 ? q : (q == .max ? .max : q + 1)
    }

    /// Decides a request of `cost` at `now` against the stored `tat`.
    public func decide(tat: UInt64, now: UInt64, cost: UInt64) -> Decision {
        let base = max(tat, now)
        let horizon = now.addingSaturating(period)
        let inc = increment(cost: cost)
        // A sum past UInt64.max is never admitted (saturating it would make it fit).
        let (candidate, overflow) = base.addingReportingOverflow(inc)
        if !overflow && candidate <= horizon {
            return Decision(admitted: true, newTAT: candidate, retryAfter: 0,
                            remaining: remaining(base: candidate, now: now), resetAfter: candidate - now)
        }
        // cost > limit can never fit, however long the client waits.
        let retry: UInt64? = (cost > limit || overflow) ? nil : candidate - horizon
        return Decision(admitted: false, newTAT: tat, retryAfter: retry,
                        remaining: remaining(base: base, now: now), resetAfter: base - now)
    }

    /// Read-only numbers for headers: what is left and when the bucket is full again.
    public func status(tat: UInt64, now: UInt64) -> (remaining: UInt64, resetAfter: UInt64) {
        let base = max(tat, now)
        return (remaining(base: base, now: now), base - now)
    }

    /// Whole units that fit between `base` and `now + period`.
    func remaining(base: UInt64, now: UInt64) -> UInt64 {
        let horizon = now.addingSaturating(period)
        guard base < horizon else { return 0 }
        let slack = horizon - base  // ≤ period
        let product = slack.multipliedFullWidth(by: limit)
        return period.dividingFullWidth((high: product.high, low: product.low)).quotient
    }

    /// The TAT after `cost` units are given back (a reservation settled below its estimate).
    public func refund(tat: UInt64, cost: UInt64) -> UInt64 {
        tat.subtractingSaturating(increment(cost: cost))
    }

    /// The TAT after `cost` units are charged unconditionally (consumption already happened:
    /// a settlement above the estimate, or another pod's consumption pulled from Redis).
    public func charge(tat: UInt64, now: UInt64, cost: UInt64) -> UInt64 {
        max(tat, now).addingSaturating(increment(cost: cost))
    }
}

extension UInt64 {
    @inlinable
    func addingSaturating(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }

    @inlinable
    func subtractingSaturating(_ other: UInt64) -> UInt64 {
        self > other ? self - other : 0
    }
}
