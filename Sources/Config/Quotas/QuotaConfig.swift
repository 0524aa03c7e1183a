extension GatewayConfig {
    /// The `quotas:` section: how limits are counted (the time zone of calendar windows, the
    /// size of the shared-memory table, cluster sync through Redis) and the teams keys belong
    /// to. The limits themselves sit where they apply: `api_keys[].limits` and
    /// `.model_limits`, `quotas.teams[].limits`, `models[].limits`, `providers[].budget`.
    public struct Quotas: Codable, Sendable, Equatable {
        /// IANA zone of calendar windows (`usd_per_day` resets at its midnight). Default UTC.
        public var timeZone: String = "UTC"
        /// Limiter slots in the pod's shared-memory table (one per limit and window in use).
        public var tableSlots: Int = 65_536
        /// When the table has no free slot: admit (and count it in metrics) or refuse with 429.
        public var onTableFull: FailMode = .open
        /// Limits every key gets unless it sets its own `limits:`.
        public var keyDefaults: LimitSet?
        public var teams: [Team] = []
        /// Cluster-wide quotas: the controller syncs the table with this Redis.
        public var redis: RedisSettings?

        public init() {}
    }

    public enum FailMode: String, Codable, Sendable, Equatable {
        case open = "fail_open"
        case closed = "fail_closed"
    }

    /// A group of keys sharing limits (`api_keys[].team`).
    public struct Team: Codable, Sendable, Equatable {
        public var name: String
        public var limits: LimitSet
        public init(name: String, limits: LimitSet) {
            self.name = name
            self.limits = limits
        }
    }

    /// The limits of one scope (a key, a team, a model, a key × model pair, a provider).
    public struct LimitSet: Codable, Sendable, Equatable {
        public var limits: [Limit]
        /// What the limits do while Redis is unreachable (with `quotas.redis` set): enforce
        /// locally (`fail_open`, the default) or refuse with 429 (`fail_closed`).
        public var onRedisDown: FailMode
        /// Check Redis on every request instead of the shared-memory approximation.
        public var strict: Bool

        public init(limits: [Limit], onRedisDown: FailMode = .open, strict: Bool = false) {
            self.limits = limits
            self.onRedisDown = onRedisDown
            self.strict = strict
        }
    }

    /// One limit: `amount` of `metric` per `window`.
    public struct Limit: Codable, Sendable, Equatable {
        public enum Metric: String, Codable, Sendable, Equatable {
            case requests, tokens
            /// Amounts in micro-dollars.
            case microUSD = "usd"
            /// In-flight requests (`window` is `.concurrent`).
            case concurrent
        }

        public enum Window: Codable, Sendable, Equatable {
            /// A sliding window of this many seconds (GCRA: the budget refills continuously).
            case rolling(seconds: Int)
            /// The calendar day or month in `quotas.time_zone`.
            case calendarDay
            case calendarMonth
            case concurrent
        }

        /// The config key it came from (`requests_per_minute`), used in errors and headers.
        public var name: String
        public var metric: Metric
        public var amount: UInt64
        public var window: Window

        public init(name: String, metric: Metric, amount: UInt64, window: Window) {
            self.name = name
            self.metric = metric
            self.amount = amount
            self.window = window
        }
    }

    /// `quotas.redis`: where the cluster-wide counters live.
    public struct RedisSettings: Codable, Sendable, Equatable {
        public var host: String
        public var port: Int
        public var password: Secret?
        public var database: Int = 0
        public var syncIntervalMs: Int = 200
        public var keyPrefix: String = "tollgate"
        public var timeoutMs: Int = 500
        /// How long Redis keeps a pod's quota lease without hearing from it (nil: ten sync
        /// intervals, at least 3 s): a dead pod's unused units come back after at most this.
        public var leaseTTLMs: Int?

        public init(host: String, port: Int, password: Secret? = nil) {
            self.host = host
            self.port = port
            self.password = password
        }
    }
}
