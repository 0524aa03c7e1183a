import Foundation
import Yams

/// The `quotas:` section and the `limits:` mappings of keys, teams, models and providers.
extension ConfigCompiler {
    static let quotaKeys = ["time_zone", "table_slots", "on_table_full", "key_defaults", "teams", "redis"]

    mutating func compileQuotas(_ node: Node?) -> GatewayConfig.Quotas {
        var quotas = GatewayConfig.Quotas()
        guard let node, !YAMLReader.isNull(node), let m = reader.mapping(node, "quotas", allowed: Self.quotaKeys) else { return quotas }
        if let zone = reader.nonEmptyString(m["time_zone"], "quotas.time_zone") {
            if TimeZone(identifier: zone) == nil {
                reader.issue("quotas.time_zone", m["time_zone"], "unknown time zone \"\(zone)\"; use an IANA name such as UTC, Europe/Berlin or America/New_York")
            } else {
                quotas.timeZone = zone
            }
        }
        if let slots = reader.int(m["table_slots"], "quotas.table_slots") {
            if (1_024...16_777_216).contains(slots) {
                quotas.tableSlots = slots
            } else {
                reader.issue("quotas.table_slots", m["table_slots"], "must be between 1024 and 16777216, got \(slots)")
            }
        }
        if let mode = failMode(m["on_table_full"], "quotas.on_table_full") { quotas.onTableFull = mode }
        quotas.keyDefaults = limitSet(m["key_defaults"], "quotas.key_defaults")
        var names = Set<String>()
        for (i, item) in (reader.sequence(m["teams"], "quotas.teams") ?? []).enumerated() {
            let path = "quotas.teams[\(i)]"
            guard let t = reader.mapping(item, path, allowed: ["name", "limits"], required: ["name", "limits"]) else { continue }
            let name = checkedName(t["name"], "\(path).name", seen: &names, what: "team")
            if let name { declaredTeams.append(name) }
            guard let name, let limits = limitSet(t["limits"], "\(path).limits") else { continue }
            quotas.teams.append(.init(name: name, limits: limits))
        }
        if let redis = m["redis"], !YAMLReader.isNull(redis) { quotas.redis = redisSettings(redis) }
        return quotas
    }

    /// `fail_open` or `fail_closed`.
    mutating func failMode(_ node: Node?, _ path: String) -> GatewayConfig.FailMode? {
        guard let text = reader.nonEmptyString(node, path) else { return nil }
        guard let mode = GatewayConfig.FailMode(rawValue: text) else {
            reader.issue(path, node, "expected fail_open or fail_closed, got \"\(text)\"")
            return nil
        }
        return mode
    }

    /// A `limits:` mapping; nil when absent or invalid (its issues recorded). `only` restricts
    /// the metrics (provider budgets take USD limits only).
    mutating func limitSet(_ node: Node?, _ path: String, only: Set<GatewayConfig.Limit.Metric>? = nil) -> GatewayConfig.LimitSet? {
        guard let node, !YAMLReader.isNull(node) else { return nil }
        let keys = GatewayConfig.Limit.keys.filter { only?.contains($0.metric) ?? true }
        guard let m = reader.mapping(node, path, allowed: keys.map(\.key) + ["on_redis_down", "strict"]) else { return nil }
        var set = GatewayConfig.LimitSet(limits: [])
        var valid = true
        for spec in keys {
            guard let value = m[spec.key] else { continue }
            let keyPath = "\(path).\(spec.key)"
            guard let amount = limitAmount(value, keyPath, usd: spec.metric == .microUSD) else {
                valid = false
                continue
            }
            set.limits.append(.init(name: spec.key, metric: spec.metric, amount: amount, window: spec.window))
        }
        if let mode = failMode(m["on_redis_down"], "\(path).on_redis_down") { set.onRedisDown = mode }
        if let strict = bool(m["strict"], "\(path).strict") { set.strict = strict }
        if set.limits.isEmpty && valid {
            reader.issue(path, node, "no limit set; use e.g. requests_per_minute, tokens_per_day, concurrent_requests or usd_per_month")
            return nil
        }
        return valid ? set : nil
    }

    /// A positive count (`600`, `100k`, `2M`, `1_000`), or for USD a positive amount in
    /// dollars (`50`, `12.5`) returned in micro-dollars.
    mutating func limitAmount(_ node: Node, _ path: String, usd: Bool) -> UInt64? {
        guard let raw = reader.string(node, path) else { return nil }
        let text = raw.replacingOccurrences(of: "_", with: "").trimmingCharacters(in: .whitespaces)
        if usd {
            let digits = text.hasPrefix("$") ? String(text.dropFirst()) : text
            guard let dollars = Double(digits), dollars.isFinite, dollars > 0, dollars < 1e12 else {
                reader.issue(path, node, "expected a positive amount of US dollars such as 50 or 12.5, got \"\(raw)\"")
                return nil
            }
            return UInt64((dollars * 1_000_000).rounded())
        }
        var multiplier: UInt64 = 1
        var number = Substring(text)
        switch text.last {
        case "k", "K": multiplier = 1_000; number = number.dropLast()
        case "m", "M": multiplier = 1_000_000; number = number.dropLast()
        case "b", "B": multiplier = 1_000_000_000; number = number.dropLast()
        default: break
        }
        guard let n = Double(number), n.isFinite, n >= 1, n * Double(multiplier) < 1e15,
              (n * Double(multiplier)).rounded() == n * Double(multiplier) else {
            reader.issue(path, node, "expected a positive whole number such as 600, \"100k\" or \"2M\", got \"\(raw)\"")
            return nil
        }
        return UInt64(n * Double(multiplier))
    }

    /// `redis: {url: redis://host:port[/db], password_env | password_file, sync_interval_ms,
    /// key_prefix, timeout_ms}`. The password never appears in an issue.
    mutating func redisSettings(_ node: Node) -> GatewayConfig.RedisSettings? {
        let path = "quotas.redis"
        guard let m = reader.mapping(node, path, allowed: ["url", "password_env", "password_file", "sync_interval_ms", "key_prefix", "timeout_ms", "lease_ttl_ms"],
                                     required: ["url"]) else { return nil }
        guard let url = reader.nonEmptyString(m["url"], "\(path).url") else { return nil }
        guard let parsed = Self.parseRedisURL(url) else {
            reader.issue("\(path).url", m["url"], "expected redis://host:port or redis://host:port/db (no password in the URL; use password_env or password_file)")
            return nil
        }
        var settings = GatewayConfig.RedisSettings(host: parsed.host, port: parsed.port)
        settings.database = parsed.database
        settings.password = credential(["api_key_env": m["password_env"], "api_key_file": m["password_file"]].compactMapValues { $0 }, path)
        for (key, keyPath, range) in [("sync_interval_ms", \GatewayConfig.RedisSettings.syncIntervalMs, 10...10_000),
                                      ("timeout_ms", \GatewayConfig.RedisSettings.timeoutMs, 10...60_000)] {
            guard let raw = reader.string(m[key], "\(path).\(key)") else { continue }
            guard let ms = Self.parseQuantity(raw, unit: .milliseconds), range.contains(ms) else {
                reader.issue("\(path).\(key)", m[key], "expected a duration between \(range.lowerBound) ms and \(range.upperBound / 1000) s, got \"\(raw)\"")
                continue
            }
            settings[keyPath: keyPath] = ms
        }
        if let raw = reader.string(m["lease_ttl_ms"], "\(path).lease_ttl_ms") {
            if let ms = Self.parseQuantity(raw, unit: .milliseconds), (100...600_000).contains(ms) {
                if ms >= 3 * settings.syncIntervalMs {
                    settings.leaseTTLMs = ms
                } else {
                    reader.issue("\(path).lease_ttl_ms", m["lease_ttl_ms"], "must be at least three sync intervals (\(3 * settings.syncIntervalMs) ms): pods renew their leases every third of it")
                }
            } else {
                reader.issue("\(path).lease_ttl_ms", m["lease_ttl_ms"], "expected a duration between 100 ms and 600 s, got \"\(raw)\"")
            }
        }
        if let prefix = reader.nonEmptyString(m["key_prefix"], "\(path).key_prefix") {
            if prefix.utf8.allSatisfy(Self.nameByte) { settings.keyPrefix = prefix } else {
                reader.issue("\(path).key_prefix", m["key_prefix"], "may use letters, digits, '.', '_' and '-' only")
            }
        }
        return settings
    }

    static func parseRedisURL(_ url: String) -> (host: String, port: Int, database: Int)? {
        guard url.hasPrefix("redis://") else { return nil }
        var rest = Substring(url.dropFirst(8))
        guard !rest.contains("@") else { return nil }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            guard db.isEmpty || Int(db).map({ (0...15).contains($0) }) == true else { return nil }
            database = Int(db) ?? 0
            rest = rest[..<slash]
        }
        var host = String(rest)
        var port = 6379
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { guard let p = Int(after.dropFirst()) else { return nil }; port = p }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let p = Int(rest[rest.index(after: colon)...]) else { return nil }
            port = p
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        return (host, port, database)
    }
}
