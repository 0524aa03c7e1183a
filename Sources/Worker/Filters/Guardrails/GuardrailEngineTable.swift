import Guardrails

/// The guardrail engine (and remote checks) for every route × API key, built once when the
/// filter chain of a config generation is built, so a request only looks its engine up.
///
/// Keys and routes that name the same policy list share one entry: the table has one engine
/// per distinct (route list, key list) pair, usually a handful however many keys there are.
/// Past `maxEngines` pairs (a config with thousands of distinct per-key lists) the rest are
/// built per request, as before, rather than holding unbounded memory.
struct GuardrailEngineTable: Sendable {
    /// What one request runs.
    struct Entry: Sendable {
        var engine: GuardrailEngine
        var remote: [ContentSafetyCheck]
    }

    static let maxEngines = 4096

    private let policies: [String: GuardrailPolicy]
    private let remoteChecks: [String: [ContentSafetyCheck]]
    private let defaults: [String]
    /// Distinct extra policy lists; index 0 is the empty list.
    private let routeLists: [[String]]
    private let keyLists: [[String]]
    private let routeList: [String: Int]
    private let keyList: [String: Int]
    /// `routeIndex * keyLists.count + keyIndex` → entry, when the pair count fits.
    private let entries: [Entry]?

    init(policies: [String: GuardrailPolicy], remoteChecks: [String: [ContentSafetyCheck]], defaults: [String],
         routePolicies: [String: [String]], keyPolicies: [String: [String]]) {
        self.policies = policies
        self.remoteChecks = remoteChecks
        self.defaults = defaults
        func index(_ lists: [String: [String]]) -> ([[String]], [String: Int]) {
            var distinct: [[String]] = [[]]
            var position: [[String]: Int] = [[]: 0]
            var byName: [String: Int] = [:]
            for (name, list) in lists {
                if let p = position[list] {
                    byName[name] = p
                } else {
                    position[list] = distinct.count
                    byName[name] = distinct.count
                    distinct.append(list)
                }
            }
            return (distinct, byName)
        }
        let (routeLists, routeList) = index(routePolicies)
        let (keyLists, keyList) = index(keyPolicies)
        self.routeLists = routeLists
        self.routeList = routeList
        self.keyLists = keyLists
        self.keyList = keyList
        if routeLists.count * keyLists.count <= Self.maxEngines {
            var built: [Entry] = []
            built.reserveCapacity(routeLists.count * keyLists.count)
            for r in routeLists {
                for k in keyLists {
                    built.append(Self.entry(Self.names(defaults, r, k), policies: policies, remoteChecks: remoteChecks))
                }
            }
            entries = built
        } else {
            entries = nil
        }
    }

    /// Whether every pair was built up front (false past `maxEngines`).
    var isPrecomputed: Bool { entries != nil }

    /// The entry for a request on `route` with API key `key` (either may be absent).
    func entry(route: String?, key: String?) -> Entry {
        let r = route.flatMap { routeList[$0] } ?? 0
        let k = key.flatMap { keyList[$0] } ?? 0
        if let entries { return entries[r * keyLists.count + k] }
        return Self.entry(Self.names(defaults, routeLists[r], keyLists[k]), policies: policies, remoteChecks: remoteChecks)
    }

    /// The policy names for one request: defaults, route, key; each once.
    static func names(_ defaults: [String], _ route: [String], _ key: [String]) -> [String] {
        var seen = Set<String>()
        return (defaults + route + key).filter { seen.insert($0).inserted }
    }

    static func entry(_ names: [String], policies: [String: GuardrailPolicy], remoteChecks: [String: [ContentSafetyCheck]]) -> Entry {
        Entry(engine: GuardrailEngine(policies: names.compactMap { policies[$0] }), remote: names.flatMap { remoteChecks[$0] ?? [] })
    }
}
