import Config
import ControlPlaneStore
import Crypto
import Foundation

/// Renders an organisation's resources into the gateway config a data plane runs: exactly
/// the schema of the YAML file (`ConfigLoader` reads JSON too, YAML being a superset), so a
/// control-plane config and a file config compile into the same snapshot — one config model,
/// two sources.
///
/// Provider credentials never appear in the config itself: a sealed credential becomes
/// `api_key_env: TOLLGATE_CP_SECRET_<ID>` and its plaintext travels beside the config in
/// `secrets`, which the data plane's controller hands to the loader as environment.
/// Data-plane-local credentials (`api_key_env`/`api_key_file`) pass through unchanged.
///
/// Output is deterministic (sorted by name, canonical JSON), so the ETag — SHA-256 of the
/// document — changes exactly when what the data plane would run changes.
struct ConfigRenderer {
    enum Mode {
        /// For a data plane: stored credentials are opened.
        case delivery(SecretBox?)
        /// For checking a change: every credential is replaced by a stand-in, so validation
        /// needs neither the master key nor the data plane's local files.
        case validation
        /// For `export`: a YAML file; stored credentials stay sealed and are named by the
        /// variable a data plane would get them in (`TOLLGATE_CP_SECRET_<ID>`).
        case export
    }

    struct Rendered {
        var config: JSONValue
        var secrets: [String: String]
        /// `providers[3]` → "provider/openai-main": to name resources in compile issues.
        var origins: [String: String]

        /// What a data plane receives. The config travels as JSON text, so the data plane
        /// hands exactly these bytes to `ConfigLoader` (no re-encoding of numbers on its side).
        var document: JSONValue {
            .object(["format": .string(ConfigRenderer.documentFormat), "config": .string(config.canonicalString()),
                     "secrets": .object(secrets.mapValues(JSONValue.string))])
        }

        var documentData: Data { document.canonicalData() }

        var etag: String {
            "\"" + SHA256.hash(data: documentData).map { String(format: "%02x", $0) }.joined() + "\""
        }
    }

    struct Failure: Error {
        var message: String
    }

    static let documentFormat = "tollgate-config-v1"

    let mode: Mode
    let nowSeconds: Int64

    /// `dataplane` is the data plane's body: its listeners and limits, and its `labels`, which
    /// select the scoped resources it receives (see `inScope`).
    func render(resources: [Resource], dataplane: JSONValue) throws -> Rendered {
        let labels = dataplane["labels"]?.objectValue ?? [:]
        let visible = resources.filter { Self.inScope($0.body["scope"], labels: labels) }
        func of(_ kind: ResourceKind) -> [Resource] {
            visible.filter { $0.kind == kind.rawValue }.sorted { $0.name < $1.name }
        }
        var secrets: [String: String] = [:]
        var origins: [String: String] = [:]
        var config: [String: JSONValue] = ["version": .integer(Int64(ConfigLoader.supportedVersion))]
        config["listeners"] = dataplane["listeners"] ?? .array([])
        if let limits = dataplane["limits"] { config["limits"] = limits }
        if let mock = dataplane["mock_provider"] { config["mock_provider"] = mock }

        var providers: [JSONValue] = []
        for p in of(.provider) {
            origins["providers[\(providers.count)]"] = "provider/\(p.name)"
            var out: [String: JSONValue] = ["name": .string(p.name)]
            for field in ["kind", "base_url", "headers", "api_version", "auth_scheme", "budget"] { out[field] = p.body[field] }
            if let credential = p.body["credential"] {
                let variable = "TOLLGATE_CP_SECRET_" + p.id.uppercased()
                switch (mode, credential["type"]?.stringValue) {
                case (.validation, _):
                    out["api_key_env"] = .string(variable)
                    secrets[variable] = "validation-stand-in"
                case (.delivery(let box), "stored"?):
                    guard let box else { throw Failure(message: "provider \(p.name) has a stored credential but no master key is configured") }
                    guard let sealed = credential["sealed"]?.stringValue else { throw Failure(message: "provider \(p.name): sealed credential missing") }
                    secrets[variable] = try box.open(sealed, context: Self.sealContext(orgID: p.orgID, providerID: p.id))
                    out["api_key_env"] = .string(variable)
                case (.export, "stored"?):
                    out["api_key_env"] = .string(variable)
                case (_, "env"?):
                    out["api_key_env"] = credential["name"]
                case (_, "file"?):
                    out["api_key_file"] = credential["path"]
                default:
                    throw Failure(message: "provider \(p.name): unknown credential type")
                }
            }
            providers.append(.object(out))
        }
        config["providers"] = .array(providers)

        var models: [JSONValue] = []
        for m in of(.model) where m.body["enabled"]?.boolValue ?? true {
            origins["models[\(models.count)]"] = "model/\(m.name)"
            var out: [String: JSONValue] = ["name": .string(m.name)]
            for field in ["route", "provider", "upstream_model", "limits"] { out[field] = m.body[field] }
            models.append(.object(out))
        }
        config["models"] = .array(models)

        var routes: [JSONValue] = []
        for r in of(.route) {
            origins["routes[\(routes.count)]"] = "route/\(r.name)"
            var out: [String: JSONValue] = ["name": .string(r.name)]
            for field in ["priorities", "max_attempts", "guardrails"] { out[field] = r.body[field] }
            routes.append(.object(out))
        }
        if !routes.isEmpty { config["routes"] = .array(routes) }

        // Teams matter to the gateway only through their limits; a key of a team without
        // limits is rendered without the team.
        var quotaTeams: [JSONValue] = []
        var teamsWithLimits = Set<String>()
        for t in of(.team) {
            guard let limits = t.body["limits"] else { continue }
            origins["quotas.teams[\(quotaTeams.count)]"] = "team/\(t.name)"
            quotaTeams.append(.object(["name": .string(t.name), "limits": limits]))
            teamsWithLimits.insert(t.name)
        }
        if !quotaTeams.isEmpty { config["quotas"] = .object(["teams": .array(quotaTeams)]) }

        var keys: [JSONValue] = []
        for k in of(.apiKey) {
            // Revoked and expired keys are simply absent: the next poll removes them everywhere.
            if k.body["revoked_at"] != nil { continue }
            if let expires = k.body["expires_at"]?.intValue, expires <= nowSeconds { continue }
            guard let hash = k.body["key_hash"] else { continue }
            origins["api_keys[\(keys.count)]"] = "api-key/\(k.name)"
            var out: [String: JSONValue] = ["name": .string(k.name), "key_hash": hash]
            for field in ["models", "routes", "limits", "model_limits", "guardrails"] { out[field] = k.body[field] }
            if let team = k.body["team"]?.stringValue, teamsWithLimits.contains(team) { out["team"] = .string(team) }
            keys.append(.object(out))
        }
        if !keys.isEmpty { config["api_keys"] = .array(keys) }

        var policies: [JSONValue] = []
        var defaults: [JSONValue] = []
        for g in of(.guardrailPolicy) {
            origins["guardrails.policies[\(policies.count)]"] = "guardrail-policy/\(g.name)"
            policies.append(.object(["name": .string(g.name), "checks": g.body["checks"] ?? .array([])]))
            if g.body["default"]?.boolValue == true { defaults.append(.string(g.name)) }
        }
        if !policies.isEmpty {
            var guardrails: [String: JSONValue] = ["policies": .array(policies)]
            if !defaults.isEmpty { guardrails["default"] = .array(defaults) }
            config["guardrails"] = .object(guardrails)
        }
        return Rendered(config: .object(config), secrets: secrets, origins: origins)
    }

    /// Per-data-plane config scope: a resource without `scope` goes to every data plane; one
    /// with a scope only to data planes whose labels have every pair of it (e.g. `region: eu`).
    static func inScope(_ scope: JSONValue?, labels: [String: JSONValue]) -> Bool {
        guard let wanted = scope?.objectValue else { return true }
        return wanted.allSatisfy { labels[$0.key] == $0.value }
    }

    /// AES-GCM associated data for a provider's credential.
    static func sealContext(orgID: String, providerID: String) -> String { "tollgate-provider-credential:\(orgID):\(providerID)" }
}

/// Compiles a rendered config with the gateway's own loader and maps its issues back to the
/// resources they came from.
enum ConfigValidation {
    /// The data plane used to check org-wide changes: one loopback listener.
    static let checkDataplane: JSONValue = .object(["listeners": .array([.object(["address": .string("127.0.0.1"), "port": .integer(8080)])])])

    static func check(_ rendered: ConfigRenderer.Rendered) -> [APIError.Issue] {
        let yaml = rendered.config.canonicalString()
        do {
            _ = try ConfigLoader.load(yaml: yaml, source: "control-plane", environment: rendered.secrets)
            return []
        } catch {
            return error.issues.compactMap { issue -> APIError.Issue? in
                // An org being set up has no providers or models yet: not an error of the change.
                if ["providers", "models"].contains(issue.path) { return nil }
                return APIError.Issue(path: origin(of: issue.path, in: rendered.origins), message: issue.message)
            }
        }
    }

    /// `routes[2].priorities[0]` → `route/fallback: priorities[0]`.
    static func origin(of path: String, in origins: [String: String]) -> String {
        let candidates = origins.keys.filter { path == $0 || path.hasPrefix($0 + ".") || path.hasPrefix($0 + "[") }
        guard let best = candidates.max(by: { $0.count < $1.count }), let resource = origins[best] else { return path }
        let rest = path.dropFirst(best.count).drop(while: { $0 == "." })
        return rest.isEmpty ? resource : "\(resource): \(rest)"
    }
}
