import Config
import ControlPlaneStore
import Foundation
import Logging
import Yams

/// The migration path between file mode and control-plane mode: `import` loads a gateway YAML
/// into an organisation (API keys keep their hashes, so clients keep their keys), `export`
/// renders an organisation back into one. Both go through the same resource schema and
/// config renderer as the API, so a round trip yields the same compiled gateway config.
///
/// Import is all or nothing before it writes: every item is validated and the resulting
/// config compiled first; sections the control plane does not manage yet are refused by name
/// rather than dropped.
public enum ConfigTransfer {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public struct ImportReport: Sendable {
        public var orgID: String
        public var created: [String]
        /// The data plane created for the file's listeners and limits, and its one-time
        /// registration token.
        public var dataplane: (id: String, registrationToken: String)?
    }

    static let unsupported = ["catalog_file", "pricing", "waf", "admin"]

    /// One resource to create, in dependency order.
    struct Item {
        var kind: ResourceKind
        var input: JSONValue
        /// Server-owned fields carried over from the file (an API key's hash).
        var kept: [String: JSONValue] = [:]
    }

    /// A YAML document as a JSON tree.
    static func tree(yaml: String) throws(Failure) -> JSONValue {
        let loaded: Any?
        do { loaded = try Yams.load(yaml: yaml) } catch { throw Failure(description: "not YAML: \(error)") }
        func convert(_ value: Any?) -> JSONValue {
            switch value {
            case nil: return .null
            case let b as Bool: return .bool(b)
            case let i as Int: return .integer(Int64(i))
            case let d as Double: return .number(d)
            case let s as String: return .string(s)
            case let a as [Any]: return .array(a.map(convert))
            case let m as [String: Any]: return .object(m.mapValues(convert))
            case let m as [AnyHashable: Any]: return .object(Dictionary(m.map { ("\($0.key)", convert($0.value)) }, uniquingKeysWith: { a, _ in a }))
            default: return .string("\(value!)")
            }
        }
        return convert(loaded)
    }

    /// The file's sections as resource inputs, and its data-plane part (listeners, limits, mock).
    static func items(_ root: JSONValue) throws(Failure) -> (items: [Item], dataplane: [String: JSONValue]) {
        guard let top = root.objectValue else { throw Failure(description: "the file is not a mapping") }
        let refused = unsupported.filter { top[$0] != nil }
        if !refused.isEmpty {
            throw Failure(description: "the control plane does not manage \(refused.joined(separator: ", ")) yet; remove them from the file (or keep file mode)")
        }
        var items: [Item] = []
        var teams: [String: JSONValue] = [:]
        if let quotas = top["quotas"]?.objectValue {
            let other = quotas.keys.filter { $0 != "teams" }.sorted()
            if !other.isEmpty { throw Failure(description: "quotas: only teams can be imported, not \(other.joined(separator: ", "))") }
            for team in quotas["teams"]?.arrayValue ?? [] {
                guard let name = team["name"]?.stringValue else { throw Failure(description: "quotas.teams: an entry has no name") }
                teams[name] = team["limits"] ?? .null
            }
        }
        for key in top["api_keys"]?.arrayValue ?? [] {
            if let team = key["team"]?.stringValue, teams[team] == nil { teams[team] = .null }
        }
        for (name, limits) in teams.sorted(by: { $0.key < $1.key }) {
            var input: [String: JSONValue] = ["name": .string(name)]
            if limits != .null { input["limits"] = limits }
            items.append(Item(kind: .team, input: .object(input)))
        }
        for p in top["providers"]?.arrayValue ?? [] { items.append(Item(kind: .provider, input: p)) }
        let defaults = Set(top["guardrails"]?["default"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        if let guardrails = top["guardrails"]?.objectValue, let other = guardrails.keys.first(where: { !["policies", "default"].contains($0) }) {
            throw Failure(description: "guardrails.\(other) cannot be imported")
        }
        for g in top["guardrails"]?["policies"]?.arrayValue ?? [] {
            var input = g.objectValue ?? [:]
            if let name = input["name"]?.stringValue, defaults.contains(name) { input["default"] = .bool(true) }
            items.append(Item(kind: .guardrailPolicy, input: .object(input)))
        }
        for r in top["routes"]?.arrayValue ?? [] { items.append(Item(kind: .route, input: r)) }
        for m in top["models"]?.arrayValue ?? [] { items.append(Item(kind: .model, input: m)) }
        for k in top["api_keys"]?.arrayValue ?? [] {
            var input = k.objectValue ?? [:]
            guard let hash = input.removeValue(forKey: "key_hash")?.stringValue, hash.hasPrefix("sha256:") else {
                throw Failure(description: "api_keys: \(k["name"]?.stringValue ?? "a key") has no key_hash (sha256:…); `tollgate keys hash` makes one")
            }
            items.append(Item(kind: .apiKey, input: .object(input), kept: ["key_hash": .string(hash.lowercased()),
                                                                           "key_prefix": .string("imported")]))
        }
        var dataplane: [String: JSONValue] = [:]
        for field in ["listeners", "limits", "mock_provider"] { dataplane[field] = top[field] }
        return (items, dataplane)
    }

    /// Imports `yaml` into the organisation named `orgName` (created if missing). With
    /// `dataplaneName`, the file's listeners and limits become that data plane, with a
    /// registration token valid for an hour.
    public static func importYAML(_ yaml: String, source: String, into store: ControlPlaneStore, orgName: String, dataplaneName: String?,
                                  nowMs: Int64) async throws -> ImportReport {
        let (items, dataplaneBody) = try items(try tree(yaml: yaml))
        let actor = AuditActor(actor: "import:\(source.prefix(200))", sourceIP: "local")
        let change = Change(actor: actor, nowMs: nowMs)
        var page = try await store.organizations(limit: 500, after: nil)
        var org = page.items.first { $0.name == orgName }
        while org == nil, let next = page.next {
            page = try await store.organizations(limit: 500, after: next)
            org = page.items.first { $0.name == orgName }
        }
        let orgID: String
        if let org { orgID = org.id } else {
            orgID = try await store.createOrganization(id: Tokens.id("org"), name: orgName, body: .object([:]), change: change).id
        }
        let existing = try await store.allResources(orgID: orgID)
        var planned: [Resource] = []
        var problems: [String] = []
        var teamNames = Set(existing.filter { $0.kind == ResourceKind.team.rawValue }.map(\.name))
        var all = items
        if let dataplaneName {
            var input = dataplaneBody
            input["name"] = .string(dataplaneName)
            all.append(Item(kind: .dataplane, input: .object(input)))
        }
        var registration: (id: String, token: String)?
        for item in all {
            let what = "\(item.kind.collection) \(item.input["name"]?.stringValue ?? "?")"
            do throws(APIError) {
                var input = try ResourceSchema.validate(item.kind, item.input, existing: nil, teams: teamNames)
                for (k, v) in item.kept { input.body[k] = v }
                let id = Tokens.id(item.kind.idPrefix)
                if item.kind == .dataplane {
                    let token = Tokens.secret("tgdr_")
                    input.body["registration"] = .object(["token_hash": .string(Tokens.hash(token)), "expires_ms": .integer(nowMs + 3_600_000)])
                    registration = (id, token)
                }
                if existing.contains(where: { $0.kind == item.kind.rawValue && $0.name == input.name }) {
                    problems.append("\(what): already exists in organization \(orgName)")
                }
                if item.kind == .team { teamNames.insert(input.name) }
                planned.append(Resource(kind: item.kind.rawValue, id: id, orgID: orgID, name: input.name, body: .object(input.body),
                                        version: 1, createdMs: nowMs, updatedMs: nowMs))
            } catch {
                problems.append("\(what): " + (error.issues.isEmpty ? error.message : error.issues.map { "\($0.path): \($0.message)" }.joined(separator: "; ")))
            }
        }
        if problems.isEmpty {
            let api = ControlPlaneAPI(store: store, settings: ControlPlaneSettings(adminTokenHash: nil, secretBox: nil),
                                      logger: Logger(label: "tollgate.control-plane.import"), clock: { nowMs })
            do throws(APIError) {
                try api.checkConfig(.provider, after: existing + planned, changed: nil)
            } catch {
                problems += error.issues.isEmpty ? [error.message] : error.issues.map { "\($0.path): \($0.message)" }
            }
        }
        guard problems.isEmpty else { throw Failure(description: "nothing imported:\n  " + problems.joined(separator: "\n  ")) }
        var created: [String] = []
        for r in planned {
            _ = try await store.create(kind: r.kind, id: r.id, orgID: orgID, name: r.name, body: r.body, change: change)
            created.append("\(r.kind) \(r.name)")
        }
        return ImportReport(orgID: orgID, created: created, dataplane: registration.map { (id: $0.id, registrationToken: $0.token) })
    }

    /// The organisation as a gateway config file (JSON, which YAML reads), as the data plane
    /// named `dataplaneName` would run it (its listeners, limits and scope), or with a
    /// loopback listener and every resource when nil.
    public static func exportYAML(from store: ControlPlaneStore, orgName: String, dataplaneName: String?, nowMs: Int64) async throws -> String {
        var page = try await store.organizations(limit: 500, after: nil)
        var org = page.items.first { $0.name == orgName }
        while org == nil, let next = page.next {
            page = try await store.organizations(limit: 500, after: next)
            org = page.items.first { $0.name == orgName }
        }
        guard let org else { throw Failure(description: "no organization named \(orgName)") }
        var resources = try await store.allResources(orgID: org.id)
        var dataplane = ConfigValidation.checkDataplane
        if let dataplaneName {
            guard let dp = resources.first(where: { $0.kind == ResourceKind.dataplane.rawValue && $0.name == dataplaneName }) else {
                throw Failure(description: "no data plane named \(dataplaneName) in \(orgName)")
            }
            dataplane = dp.body
        } else {
            resources = resources.map { r in
                var r = r
                r.body = .object((r.body.objectValue ?? [:]).filter { $0.key != "scope" })
                return r
            }
        }
        let rendered = try ConfigRenderer(mode: .export, nowSeconds: nowMs / 1000).render(resources: resources, dataplane: dataplane)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(rendered.config), as: UTF8.self) + "\n"
    }
}
