/// The numbers behind OpenAI-style `x-ratelimit-limit-*`, `x-ratelimit-remaining-*` and
/// `x-ratelimit-reset-*` headers for one limit.
public struct QuotaStatus: Sendable, Hashable {
    public var name: String
    public var unit: LimitDefinition.Unit
    public var limit: UInt64
    /// Units still available (after this request, when returned with an admission).
    public var remaining: UInt64
    /// Nanoseconds until the limit is fully available again (GCRA) or the window ends.
    public var resetAfterNanoseconds: UInt64

    public init(name: String, unit: LimitDefinition.Unit, limit: UInt64, remaining: UInt64, resetAfterNanoseconds: UInt64) {
        self.name = name
        self.unit = unit
        self.limit = limit
        self.remaining = remaining
        self.resetAfterNanoseconds = resetAfterNanoseconds
    }
}

/// Why `acquire` said no, for a 429 with `retry-after` and `x-ratelimit-*` headers. Budget
/// exhaustion is `reason == .limitExceeded` with `status.unit == .microUSD`.
public struct QuotaRejection: Sendable, Hashable {
    public enum Reason: Sendable, Hashable {
        /// The limit has no room for this cost now.
        case limitExceeded
        /// A fail-closed cluster limit while the Redis sync is unavailable.
        case clusterSyncUnavailable
        /// No free slot for the limit's key and the call asked to fail closed.
        case tableFull
        /// A leased cluster limit has too little local allowance and the controller is
        /// fetching a lease from Redis (`LeasePendingPolicy.wait`): ask again in a moment.
        case awaitingLease
    }

    public var reason: Reason
    /// Index of the rejecting limit in the `acquire` argument.
    public var index: Int
    public var status: QuotaStatus
    /// Nanoseconds until the same request could pass; `nil` = never (its cost exceeds the limit).
    public var retryAfterNanoseconds: UInt64?

    public init(reason: Reason, index: Int, status: QuotaStatus, retryAfterNanoseconds: UInt64?) {
        self.reason = reason
        self.index = index
        self.status = status
        self.retryAfterNanoseconds = retryAfterNanoseconds
    }

    /// `retry-after` in whole seconds, rounded up (nil = never; send no header and a clear error).
    public var retryAfterSeconds: UInt64? {
        retryAfterNanoseconds.map { ($0 + 999_999_999) / 1_000_000_000 }
    }
}

/// The outcome of `QuotaTable.acquire`.
public enum QuotaDecision: Sendable {
    case admitted(QuotaReservation)
    case rejected(QuotaRejection)
}
