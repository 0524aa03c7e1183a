import Guardrails
import Testing
@testable import Worker

/// The engine table gives each route × key the policies the per-request build gave
/// (defaults, route, key; each once, in that order), whether it precomputed the pair or not.
@Suite struct GuardrailEngineTableTests {
    static func policy(_ name: String) -> GuardrailPolicy {
        GuardrailPolicy(name: name, checks: [GuardrailCheck(name: "pii", kind: .pii([.email]), action: .redact)])
    }

    static let policies = Dictionary(uniqueKeysWithValues: ["base", "route-a", "route-b", "key-x", "shared"].map { ($0, policy($0)) })
    static let routes = ["a": ["route-a", "shared"], "b": ["route-b"], "c": [], "a2": ["route-a", "shared"]]
    static let keys = ["k1": ["key-x"], "k2": ["shared", "key-x"], "k3": ["key-x"], "k4": []]

    static func names(_ table: GuardrailEngineTable, _ route: String?, _ key: String?) -> [String] {
        table.entry(route: route, key: key).engine.policies.map(\.name)
    }

    @Test func entriesMatchTheNamesOfEachRouteAndKey() {
        let table = GuardrailEngineTable(policies: Self.policies, remoteChecks: [:], defaults: ["base"], routePolicies: Self.routes,
                                         keyPolicies: Self.keys)
        #expect(table.isPrecomputed)
        for route in Array(Self.routes.keys) + ["unknown"] {
            for key in Array(Self.keys.keys) + ["unknown"] {
                let expected = GuardrailEngineTable.names(["base"], Self.routes[route] ?? [], Self.keys[key] ?? [])
                #expect(Self.names(table, route, key) == expected, "\(route) × \(key)")
            }
        }
        #expect(Self.names(table, "a", "k2") == ["base", "route-a", "shared", "key-x"])
        #expect(Self.names(table, nil, nil) == ["base"])
        #expect(Self.names(table, "c", "k4") == ["base"])
        #expect(Self.names(table, nil, "k1") == ["base", "key-x"])
    }

    @Test func tooManyPairsFallBackToBuildingPerRequest() {
        var keys: [String: [String]] = [:]
        // A distinct list per key, past the cap (names of no policy are skipped, as before).
        for i in 0...GuardrailEngineTable.maxEngines { keys["key-\(i)"] = ["unknown-\(i)", i % 2 == 0 ? "key-x" : "shared"] }
        let table = GuardrailEngineTable(policies: Self.policies, remoteChecks: [:], defaults: ["base"], routePolicies: Self.routes,
                                         keyPolicies: keys)
        #expect(!table.isPrecomputed)
        #expect(Self.names(table, "a", "key-0") == ["base", "route-a", "shared", "key-x"])
        #expect(Self.names(table, "b", "key-3") == ["base", "route-b", "shared"])
        #expect(Self.names(table, nil, "key-4") == ["base", "key-x"])
        #expect(Self.names(table, "a", "key-1") == ["base", "route-a", "shared"])
    }
}
