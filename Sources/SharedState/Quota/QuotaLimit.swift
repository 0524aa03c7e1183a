/// A limit definition applied to one scope (an API key, a team, a model, a key×model pair…),
/// compiled once per config generation by the worker: the slot key and the limiter parameters
/// are precomputed so admission does no hashing of strings.
///
/// `scope` is any stable string the worker chooses, e.g. `"key:3f2a…"` or
/// `"team:ml|model:gpt-4o"`; the slot key hashes it with the definition's fingerprint, so two
/// pods with the same config address the same Redis key.
///
/// A class so that admission and reservations pass one reference around instead of copying
/// (and retaining) the strings inside.
public final class QuotaLimit: Sendable, Hashable {
    enum Kind: UInt64 {
        case rolling = 1
        case calendar = 2
        case concurrent = 3
    }

    public let definition: LimitDefinition
    public let scope: String
    /// Hash of (definition, scope); calendar limits add the window id per request.
    public let baseKey: UInt64
    let kind: Kind
    let gcra: GCRA?
    let calendarUnit: CalendarWindow.Unit?
    let timeZone: QuotaTimeZone?

    /// Fails (returns nil) for definitions with a `problem`; validate them at config build time.
    public init?(_ definition: LimitDefinition, scope: String) {
        guard definition.problem == nil else { return nil }
        self.definition = definition
        self.scope = scope
        var h = QuotaHash()
        h.add(definition.fingerprint)
        h.add(scope)
        baseKey = h.value
        switch definition.window {
        case .rolling(let seconds):
            kind = .rolling
            gcra = GCRA(limit: definition.limit, period: seconds * 1_000_000_000)
            calendarUnit = nil
            timeZone = nil
        case .calendar(let unit, let zone):
            kind = .calendar
            gcra = nil
            calendarUnit = unit
            timeZone = QuotaTimeZone(identifier: zone)
        case .concurrent:
            kind = .concurrent
            gcra = nil
            calendarUnit = nil
            timeZone = nil
        }
    }

    public static func == (a: QuotaLimit, b: QuotaLimit) -> Bool {
        a === b || (a.baseKey == b.baseKey && a.definition == b.definition && a.scope == b.scope)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(baseKey)
    }

    public var name: String { definition.name }
    public var limit: UInt64 { definition.limit }

    /// The slot key and the calendar window's end (Unix ns; 0 for other kinds) at
    /// `unixNanoseconds`. The Redis key of a cluster limit is derived from it.
    public func slotKey(unixNanoseconds: UInt64) -> (key: UInt64, windowEnd: UInt64) {
        guard kind == .calendar, let unit = calendarUnit, let zone = timeZone else { return (baseKey, 0) }
        let seconds = Int64(unixNanoseconds / 1_000_000_000)
        let window = CalendarWindow.containing(unixSeconds: seconds, unit: unit, utcOffsetSeconds: zone.utcOffset(atUnixSeconds: seconds))
        return (QuotaHash.combine(baseKey, window.id), UInt64(max(0, window.end)) * 1_000_000_000)
    }

    /// True for cluster limits enforced through leases from Redis (not local, not strict,
    /// not a concurrency limit).
    public var isLeased: Bool {
        definition.sharing != .local && !definition.strict && kind != .concurrent
    }

    var meta: UInt64 {
        kind.rawValue | UInt64(definition.sharing.rawValue) << 8 | 1 << 16 | (isLeased ? QuotaTable.leasedFlag : 0)
    }
}

/// One limit to charge in `QuotaTable.acquire`, with the estimated cost in the limit's unit
/// (1 for a request; prompt tokens + `max_tokens` for a token limit; the worst-case price in
/// micro-dollars for a budget). Concurrency limits ignore the cost.
public struct QuotaCharge: Sendable, Hashable {
    public var limit: QuotaLimit
    public var cost: UInt64

    public init(_ limit: QuotaLimit, cost: UInt64) {
        self.limit = limit
        self.cost = cost
    }
}

/// What a request really consumed, known when it ends; `settle` picks the field matching each
/// limit's unit.
public struct QuotaUsage: Sendable, Hashable {
    public var requests: UInt64
    public var tokens: UInt64
    public var microUSD: UInt64

    public init(requests: UInt64 = 1, tokens: UInt64 = 0, microUSD: UInt64 = 0) {
        self.requests = requests
        self.tokens = tokens
        self.microUSD = microUSD
    }

    public subscript(unit: LimitDefinition.Unit) -> UInt64 {
        switch unit {
        case .requests: return requests
        case .tokens: return tokens
        case .microUSD: return microUSD
        }
    }
}
