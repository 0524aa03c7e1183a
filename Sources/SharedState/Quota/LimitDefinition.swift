/// One configured limit, as the worker builds it from the config snapshot: what is counted,
/// over which window, how it is shared across pods, and what happens when Redis is away.
/// The scope (API key, team, model, key×model…) is not part of it: the same definition applies
/// to many scopes, see `QuotaLimit`.
///
/// `fingerprint` hashes every field, so a reload that leaves a definition unchanged keeps its
/// counters (same slot key), while changing the number, the window or the unit starts fresh
/// slots; the old ones age out and the controller's garbage collector reclaims them.
public struct LimitDefinition: Sendable, Hashable {
    /// What the cost of a request is measured in (selects the `QuotaUsage` field and the
    /// `x-ratelimit-*-requests`/`-tokens` header family; `microUSD` is a budget).
    public enum Unit: UInt8, Sendable, Hashable {
        case requests = 1
        case tokens = 2
        case microUSD = 3
    }

    /// The window kind.
    public enum Window: Sendable, Hashable {
        /// GCRA: `limit` units per `periodSeconds`, burst = `limit`, a rolling window
        /// (per second/minute/hour/day limits, rolling budgets).
        case rolling(periodSeconds: UInt64)
        /// Fixed calendar window (day/month) in `timeZone` (an IANA name such as
        /// "Europe/Berlin", or "UTC"); resets at local midnight / the first of the month.
        case calendar(CalendarWindow.Unit, timeZone: String)
        /// At most `limit` requests in flight at once (pod-local; never synced).
        case concurrent
    }

    /// How the limit is shared between pods.
    public enum Sharing: UInt8, Sendable, Hashable {
        /// Enforced per pod only.
        case local = 0
        /// Cluster-wide through the controller's Redis sync; while Redis is unreachable the
        /// pod enforces it locally (fail-open).
        case clusterFailOpen = 1
        /// Cluster-wide; while Redis is unreachable requests are rejected (fail-closed).
        case clusterFailClosed = 2
    }

    /// A stable name for logs and the rejection (e.g. "key-tokens-per-minute").
    public var name: String
    public var unit: Unit
    public var limit: UInt64
    public var window: Window
    public var sharing: Sharing
    /// Strict mode (`strict: true`): a cluster limit checked in Redis on every request by the
    /// worker's strict pool; the table then counts it locally only (no lease), so the two
    /// never charge the same consumption twice.
    public var strict: Bool

    public init(name: String, unit: Unit, limit: UInt64, window: Window, sharing: Sharing = .local, strict: Bool = false) {
        self.name = name
        self.unit = unit
        self.limit = limit
        self.window = window
        self.sharing = sharing
        self.strict = strict
    }

    /// A 64-bit hash of every field (FNV-1a + a finalizer: stable across processes, pods and
    /// restarts, unlike Swift's seeded `Hasher`).
    public var fingerprint: UInt64 {
        var h = QuotaHash()
        h.add(name)
        h.add(UInt64(unit.rawValue))
        h.add(limit)
        switch window {
        case .rolling(let period):
            h.add(1); h.add(period)
        case .calendar(let unit, let zone):
            h.add(2); h.add(unit.rawValue); h.add(zone)
        case .concurrent:
            h.add(3)
        }
        h.add(UInt64(sharing.rawValue))
        if strict { h.add(0x5354_5249_4354) }  // only when set: existing keys keep their slots
        return h.value
    }

    /// A definition problem, for the config validator to report with its path.
    public var problem: String? {
        if limit == 0 { return "limit must be greater than 0" }
        if limit >= 1 << 62 { return "limit \(limit) is too large" }
        switch window {
        case .rolling(let period):
            if period == 0 { return "period must be at least one second" }
            if period > 400 * 86_400 { return "period must be at most 400 days" }
        case .calendar(_, let zone):
            if QuotaTimeZone(identifier: zone) == nil { return "unknown time zone \"\(zone)\"" }
        case .concurrent:
            if sharing != .local { return "concurrency limits are per pod; they cannot be shared through Redis" }
        }
        return nil
    }
}

/// FNV-1a over the fields, finished with the splitmix64 avalanche so nearby inputs spread over
/// the whole table. Never returns 0 (0 marks a free slot).
public struct QuotaHash: Sendable {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func add(_ value: UInt64) {
        var v = value
        for _ in 0..<8 {
            state = (state ^ (v & 0xff)) &* 0x0000_0100_0000_01b3
            v >>= 8
        }
    }

    public mutating func add(_ string: String) {
        for byte in string.utf8 {
            state = (state ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        add(UInt64(string.utf8.count))  // "ab"+"c" ≠ "a"+"bc"
    }

    public var value: UInt64 {
        var z = state &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        z ^= z >> 31
        return z == 0 ? 1 : z
    }

    /// Combines an already-hashed key with a window id (a new calendar window = a new slot).
    public static func combine(_ key: UInt64, _ windowID: Int64) -> UInt64 {
        var h = QuotaHash()
        h.add(key)
        h.add(UInt64(bitPattern: windowID))
        return h.value
    }
}
