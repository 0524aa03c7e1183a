/// Decides which backend a request tries next, and what the client gets when none is left.
///
/// Pure: no clock, no I/O, no randomness of its own (a seed is injected). The proxy feeds it
/// the outcome of each attempt and performs the action it returns.
///
/// Rules:
/// - Priorities are walked in order. Inside one priority every backend is tried at most once,
///   in a weighted-random order (a weighted shuffle, so weight 3 vs 1 means the first backend is
///   tried first 75% of the time, and the other one is still tried if it fails).
/// - A backend that is cooling down (it answered `retry-after` recently) is skipped without an
///   attempt; the skip is reported in the final error.
/// - Retriable failures are 429, 408, every 5xx, upstream 401/403 (a credential problem of the
///   gateway's, which another provider may not have), connect failures, resets and timeouts —
///   all only while no byte reached the client; the proxy never asks afterwards.
/// - At most `maxAttempts` upstream attempts per client request.
/// - When nothing is left to try and the smallest `retry-after` seen is within
///   `maxRetryAfterWaitMs`, the machine asks to wait once and retry that backend.
/// - Exhausted: 503 with `retry-after` when every failure was about capacity (429, 503,
///   cooling down), 504 when the last failure was a timeout, else 502.
public struct FallbackStateMachine: Sendable {
    /// Why an attempt failed.
    public enum Failure: Sendable, Equatable {
        case status(Int, retryAfterMs: Int?)
        case connectFailed(String)
        case connectionReset
        case timeout(TimeoutPhase)
        /// Not called: the backend's provider is over its own budget (`providers[].budget`).
        case overBudget(String)
        /// Not called: the gateway's own connection pool for the origin is saturated
        /// (`limits.max_upstream_connections_per_origin` and `max_upstream_wait_queue`).
        case poolSaturated(String)

        public enum TimeoutPhase: String, Sendable, Equatable {
            case connect
            case firstByte = "first byte"
        }

        var isCapacity: Bool {
            if case .status(let code, _) = self { return code == 429 || code == 503 }
            if case .overBudget = self { return true }
            if case .poolSaturated = self { return true }
            return false
        }

        var isTimeout: Bool {
            if case .timeout = self { return true }
            return false
        }

        var retryAfterMs: Int? {
            if case .status(_, let ms) = self { return ms }
            return nil
        }

        public var summary: String {
            switch self {
            case .status(let code, let ra):
                return ra.map { "HTTP \(code) (retry-after \($0) ms)" } ?? "HTTP \(code)"
            case .connectFailed(let why): return "connect failed: \(why)"
            case .connectionReset: return "connection reset before a response"
            case .overBudget(let limit): return "skipped: the provider's budget is exhausted (\(limit))"
            case .timeout(let phase): return "\(phase.rawValue) timeout"
            case .poolSaturated(let why): return "not called: \(why)"
            }
        }
    }

    /// Whether a finished attempt should be retried elsewhere.
    public static func isRetriable(status: Int) -> Bool {
        status == 429 || status == 408 || status == 401 || status == 403 || (500...599).contains(status)
    }

    public enum Outcome: Sendable, Equatable {
        case failed(Failure)
        case skippedCoolingDown(remainingMs: Int)
    }

    public struct Record: Sendable, Equatable {
        public var backend: FallbackPlan.BackendRef
        public var outcome: Outcome
    }

    public struct Exhaustion: Sendable, Equatable {
        public var status: Int
        public var retryAfterSeconds: Int?
        public var records: [Record]
    }

    public enum Action: Sendable, Equatable {
        case attempt(FallbackPlan.BackendRef)
        /// Wait this long, then attempt the backend (counts as an attempt).
        case wait(ms: Int, then: FallbackPlan.BackendRef)
        case exhausted(Exhaustion)
    }

    private let plan: FallbackPlan
    private let coolingDown: [FallbackPlan.BackendRef: Int]
    private let maxRetryAfterWaitMs: Int
    private var rng: SplitMix64
    private var priority = 0
    private var order: [Int] = []
    private var orderBuiltFor = -1
    private var current: FallbackPlan.BackendRef?
    private var waited = false
    public private(set) var attempts = 0
    public private(set) var records: [Record] = []

    /// - Parameters:
    ///   - coolingDown: backends to skip, with the milliseconds left of their `retry-after`.
    ///   - seed: randomness for the weighted order (any value; tests pass a fixed one).
    public init(plan: FallbackPlan, coolingDown: [FallbackPlan.BackendRef: Int] = [:], maxRetryAfterWaitMs: Int = 0, seed: UInt64) {
        self.plan = plan
        self.coolingDown = coolingDown
        self.maxRetryAfterWaitMs = maxRetryAfterWaitMs
        self.rng = SplitMix64(seed: seed)
    }

    /// The next thing to do. Call once at the start, then once after each `attemptFailed`.
    public mutating func next() -> Action {
        precondition(current == nil, "next() called while an attempt is outstanding")
        if attempts < plan.maxAttempts {
            while priority < plan.priorities.count {
                if orderBuiltFor != priority {
                    order = weightedOrder(plan.priorities[priority])
                    orderBuiltFor = priority
                }
                if order.isEmpty {
                    priority += 1
                    continue
                }
                let ref = FallbackPlan.BackendRef(priority: priority, index: order.removeFirst())
                if let remaining = coolingDown[ref], remaining > 0 {
                    records.append(Record(backend: ref, outcome: .skippedCoolingDown(remainingMs: remaining)))
                    continue
                }
                attempts += 1
                current = ref
                return .attempt(ref)
            }
            if let (ref, ms) = bestWait() {
                waited = true
                attempts += 1
                current = ref
                return .wait(ms: ms, then: ref)
            }
        }
        return .exhausted(exhaustion())
    }

    /// Reports that the outstanding attempt failed before any byte reached the client.
    public mutating func attemptFailed(_ failure: Failure) {
        guard let ref = current else { preconditionFailure("attemptFailed() without an outstanding attempt") }
        records.append(Record(backend: ref, outcome: .failed(failure)))
        current = nil
    }

    /// The smallest retry-after within the wait budget, if waiting once is allowed.
    private func bestWait() -> (FallbackPlan.BackendRef, Int)? {
        guard !waited, maxRetryAfterWaitMs > 0 else { return nil }
        var best: (FallbackPlan.BackendRef, Int)?
        for record in records {
            let ms: Int?
            switch record.outcome {
            case .failed(let f): ms = f.retryAfterMs
            case .skippedCoolingDown(let remaining): ms = remaining
            }
            if let ms, ms <= maxRetryAfterWaitMs, best.map({ ms < $0.1 }) ?? true {
                best = (record.backend, ms)
            }
        }
        return best
    }

    private func exhaustion() -> Exhaustion {
        var allCapacity = !records.isEmpty
        var minRetryMs: Int?
        var lastFailure: Failure?
        for record in records {
            switch record.outcome {
            case .skippedCoolingDown(let remaining):
                minRetryMs = min(minRetryMs ?? remaining, remaining)
            case .failed(let f):
                lastFailure = f
                if !f.isCapacity { allCapacity = false }
                if let ms = f.retryAfterMs { minRetryMs = min(minRetryMs ?? ms, ms) }
            }
        }
        if allCapacity {
            return Exhaustion(status: 503, retryAfterSeconds: minRetryMs.map { max(1, ($0 + 999) / 1000) }, records: records)
        }
        if lastFailure?.isTimeout == true {
            return Exhaustion(status: 504, retryAfterSeconds: nil, records: records)
        }
        return Exhaustion(status: 502, retryAfterSeconds: nil, records: records)
    }

    /// A weighted shuffle: repeatedly draws an index with probability proportional to its weight.
    private mutating func weightedOrder(_ weights: [Int]) -> [Int] {
        var remaining = Array(weights.indices)
        var result: [Int] = []
        result.reserveCapacity(weights.count)
        while !remaining.isEmpty {
            if remaining.count == 1 {
                result.append(remaining[0])
                break
            }
            let total = remaining.reduce(0) { $0 + max(1, weights[$1]) }
            var pick = Int(rng.next() % UInt64(total))
            var chosen = 0
            for (i, idx) in remaining.enumerated() {
                pick -= max(1, weights[idx])
                if pick < 0 {
                    chosen = i
                    break
                }
            }
            result.append(remaining.remove(at: chosen))
        }
        return result
    }
}

/// A tiny, fast, seedable generator (Vigna's SplitMix64); not for cryptography.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { self.state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
