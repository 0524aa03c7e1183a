import Config
import NIOCore
import QuotaCluster
import SharedState

/// The quota limits of one config generation, compiled once (slot keys and limiter parameters
/// precomputed by `QuotaLimit`) so admission hashes nothing per request.
///
/// Scopes, as they appear in the shared table and in Redis: `key:<name>` (the key's own limits,
/// else `quotas.key_defaults`), `team:<name>`, `model:<name>` (all keys together),
/// `key:<name>|model:<name>` (`api_keys[].model_limits`) and `provider:<name>` (budgets checked
/// when a backend is picked). A limit whose definition and scope did not change across a reload
/// keeps its slot, hence its counters. Cluster limits (with `quotas.redis`) are leased from
/// Redis by the controller and spent here from shared memory; `strict: true` ones are checked
/// in Redis per request instead.
struct QuotaPlan: Sendable {
    private(set) var byKey: [String: [QuotaLimit]] = [:]
    private(set) var byKeyModel: [String: [String: [QuotaLimit]]] = [:]
    private(set) var byModel: [String: [QuotaLimit]] = [:]
    private(set) var byProvider: [String: [QuotaLimit]] = [:]
    /// Limits also checked in Redis on every request (`strict: true`, with `quotas.redis`).
    private(set) var strict: Set<ObjectIdentifier> = []
    let onTableFull: QuotaTable.TableFullPolicy
    /// How long a request waits for a cluster lease before it is refused as unavailable: two
    /// Redis timeouts and a sync interval.
    let leaseWait: TimeAmount

    var hasStrict: Bool { !strict.isEmpty }
    /// The Redis the strict checks ask (compiled with the plan, not per request); nil
    /// without strict limits.
    private(set) var strictSync: QuotaSyncSettings?

    func isStrict(_ limit: QuotaLimit) -> Bool { strict.contains(ObjectIdentifier(limit)) }

    var isEmpty: Bool { byKey.isEmpty && byKeyModel.isEmpty && byModel.isEmpty && byProvider.isEmpty }

    init(_ config: GatewayConfig) {
        let quotas = config.quotas
        onTableFull = quotas.onTableFull == .open ? .failOpen : .failClosed
        let waitMs = quotas.redis.map { 2 * $0.timeoutMs + $0.syncIntervalMs } ?? 0
        leaseWait = .milliseconds(Int64(min(5_000, max(100, waitMs))))
        let clustered = quotas.redis != nil
        var strict: Set<ObjectIdentifier> = []
        func compile(_ set: GatewayConfig.LimitSet?, scope: String) -> [QuotaLimit] {
            guard let set else { return [] }
            let limits = set.limits.compactMap { Self.limit($0, set: set, scope: scope, timeZone: quotas.timeZone, clustered: clustered) }
            if set.strict && clustered {
                for limit in limits where limit.definition.sharing != .local { strict.insert(ObjectIdentifier(limit)) }
            }
            return limits
        }
        let teams = Dictionary(quotas.teams.map { ($0.name, $0.limits) }, uniquingKeysWith: { a, _ in a })
        for key in config.apiKeys {
            var limits = compile(key.limits ?? quotas.keyDefaults, scope: "key:\(key.name)")
            if let team = key.team { limits += compile(teams[team], scope: "team:\(team)") }
            if !limits.isEmpty { byKey[key.name] = limits }
            for (model, set) in key.modelLimits {
                let scoped = compile(set, scope: "key:\(key.name)|model:\(model)")
                if !scoped.isEmpty { byKeyModel[key.name, default: [:]][model] = scoped }
            }
        }
        for model in config.models {
            let limits = compile(model.limits, scope: "model:\(model.name)")
            if !limits.isEmpty { byModel[model.name] = limits }
        }
        for provider in config.providers {
            let limits = compile(provider.budget, scope: "provider:\(provider.name)")
            if !limits.isEmpty { byProvider[provider.name] = limits }
        }
        self.strict = strict
        if !strict.isEmpty { strictSync = QuotaSyncSettings(quotas) }
    }

    /// Every limit a request by `key` for `model` is charged against, broadest scope last.
    func limits(key: String, model: String) -> [QuotaLimit] {
        var out = byKeyModel[key]?[model] ?? []
        if let k = byKey[key] { out += k }
        if let m = byModel[model] { out += m }
        return out
    }

    static func limit(_ limit: GatewayConfig.Limit, set: GatewayConfig.LimitSet, scope: String, timeZone: String, clustered: Bool) -> QuotaLimit? {
        let unit: LimitDefinition.Unit
        switch limit.metric {
        case .requests, .concurrent: unit = .requests
        case .tokens: unit = .tokens
        case .microUSD: unit = .microUSD
        }
        let window: LimitDefinition.Window
        switch limit.window {
        case .rolling(let seconds): window = .rolling(periodSeconds: UInt64(seconds))
        case .calendarDay: window = .calendar(.day, timeZone: timeZone)
        case .calendarMonth: window = .calendar(.month, timeZone: timeZone)
        case .concurrent: window = .concurrent
        }
        var sharing = LimitDefinition.Sharing.local
        if clustered, limit.window != .concurrent {
            sharing = set.onRedisDown == .closed ? .clusterFailClosed : .clusterFailOpen
        }
        // Strict limits are charged in Redis per request; the table counts them locally only.
        let strict = sharing != .local && set.strict
        return QuotaLimit(LimitDefinition(name: limit.name, unit: unit, limit: limit.amount, window: window, sharing: sharing, strict: strict),
                          scope: scope)
    }
}
