import CTollgate

/// One worker's counters inside the control block. Only the owning worker writes them (with
/// atomic adds, so a reader in another process never sees a torn value); any process reads.
/// A respawned worker reuses its slot and keeps counting from where its predecessor stopped,
/// except `activeConnections`, which it resets because the dead process's connections died too.
public struct WorkerStats: @unchecked Sendable {
    /// Counter identities. Appending a case changes the layout: bump `ControlBlock.layoutVersion`.
    public enum Counter: Int, CaseIterable, Sendable {
        case requests
        case responses2xx
        case responses4xx
        case responses5xx
        case upstreamAttempts
        case upstreamFailures
        case fallbacks
        /// Requests refused with 429 by a rate, token or concurrency limit.
        case quotaRejected
        /// Requests refused with 429 by a dollar budget.
        case budgetRejected
        case activeConnections
        case configGeneration
        case pid
        /// Upstream connections this worker holds (connecting, busy and idle), all origins.
        case upstreamConnections
        /// Of those, idle in the pool.
        case upstreamIdleConnections
        /// Requests waiting for an upstream connection (origins at their cap).
        case upstreamWaiters

        /// Prometheus metric name of the counter.
        public var metricName: String {
            switch self {
            case .requests: return "tollgate_requests_total"
            case .responses2xx: return "tollgate_responses_2xx_total"
            case .responses4xx: return "tollgate_responses_4xx_total"
            case .responses5xx: return "tollgate_responses_5xx_total"
            case .upstreamAttempts: return "tollgate_upstream_attempts_total"
            case .upstreamFailures: return "tollgate_upstream_failures_total"
            case .fallbacks: return "tollgate_fallbacks_total"
            case .quotaRejected: return "tollgate_quota_rejected_total"
            case .budgetRejected: return "tollgate_budget_rejected_total"
            case .activeConnections: return "tollgate_active_connections"
            case .configGeneration: return "tollgate_worker_config_generation"
            case .pid: return "tollgate_worker_pid"
            case .upstreamConnections: return "tollgate_upstream_connections"
            case .upstreamIdleConnections: return "tollgate_upstream_idle_connections"
            case .upstreamWaiters: return "tollgate_upstream_pool_waiters"
            }
        }

        /// A level that goes up and down (a Prometheus gauge), not a running total.
        public var isGauge: Bool {
            switch self {
            case .activeConnections, .configGeneration, .pid, .upstreamConnections, .upstreamIdleConnections, .upstreamWaiters:
                return true
            default:
                return false
            }
        }
    }

    private let base: UnsafeMutablePointer<UInt64>
    private let owner: ControlBlock

    init(base: UnsafeMutablePointer<UInt64>, owner: ControlBlock) {
        self.base = base
        self.owner = owner
    }

    @inline(__always)
    public func add(_ counter: Counter, _ amount: UInt64 = 1) {
        _ = tg_atomic_add_u64(base + counter.rawValue, amount)
    }

    @inline(__always)
    public func subtract(_ counter: Counter, _ amount: UInt64 = 1) {
        _ = tg_atomic_sub_u64(base + counter.rawValue, amount)
    }

    public func set(_ counter: Counter, _ value: UInt64) {
        tg_atomic_store_u64(base + counter.rawValue, value)
    }

    public func value(_ counter: Counter) -> UInt64 {
        tg_atomic_load_u64(base + counter.rawValue)
    }
}
