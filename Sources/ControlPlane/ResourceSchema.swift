import ControlPlaneStore
import Foundation

/// Per-kind request validation: what a client may send for each resource, turned into the
/// stored body. Shape and types are checked here (with field paths); what the gateway would
/// make of the values (limits syntax, guardrail checks, references) is checked by compiling
/// the org's config, see `ConfigValidation`.
///
/// Server-owned fields (key hashes, sealed credentials, revocation) are never taken from a
/// request; on an update they are carried over from the stored body.
enum ResourceSchema {
    struct Input {
        var name: String
        var body: [String: JSONValue]
    }

    /// Provider kinds a control plane can configure today: the ones that authenticate with an
    /// API key. Bedrock and Vertex need data-plane-local cloud credentials (next step).
    static let providerKinds = ["openai", "openai-compatible", "azure-openai", "anthropic", "gemini"]

    static func validate(_ kind: ResourceKind, _ value: JSONValue, existing: Resource?, teams: Set<String>) throws(APIError) -> Input {
        switch kind {
        case .team: return try team(value)
        case .user: return try user(value, teams: teams)
        case .apiKey: return try apiKey(value, existing: existing, teams: teams)
        case .provider: return try provider(value, existing: existing)
        case .model: return try model(value)
        case .route: return try route(value)
        case .guardrailPolicy: return try guardrailPolicy(value)
        case .dataplane: return try dataplane(value, existing: existing)
        }
    }

    static func team(_ value: JSONValue) throws(APIError) -> Input {
        var r = try FieldReader(value, allowed: ResourceFields.allowed(.team))
        let name = r.name()
        var body: [String: JSONValue] = [:]
        if let d = r.string("description", maxLength: 1000) { body["description"] = .string(d) }
        if let l = r.object("limits") { body["limits"] = l }
        try r.finish()
        return Input(name: name ?? "", body: body)
    }

    static func user(_ value: JSONValue, teams: Set<String>) throws(APIError) -> Input {
        var r = try FieldReader(value, allowed: ResourceFields.allowed(.user))
        let email = r.string("email", required: true, maxLength: 254)
        if let email, !(email.contains("@") && !email.hasPrefix("@") && !email.hasSuffix("@") && !email.contains(where: \.isWhitespace)) {
            r.issue("email", "must be an e-mail address")
        }
        let role = r.oneOf("role", Role.allCases.map(\.rawValue), required: true)
        let memberOf = r.names("teams") ?? []
        for (i, t) in memberOf.enumerated() where !teams.contains(t) { r.issue("teams[\(i)]", "unknown team \"\(t)\"") }
        var body: [String: JSONValue] = ["role": .string(role ?? ""), "teams": .array(memberOf.map(JSONValue.string))]
        if let d = r.string("display_name", maxLength: 200) { body["display_name"] = .string(d) }
        try r.finish()
        return Input(name: (email ?? "").lowercased(), body: body)
    }

    static func apiKey(_ value: JSONValue, existing: Resource?, teams: Set<String>) throws(APIError) -> Input {
        var r = try FieldReader(value, allowed: ResourceFields.allowed(.apiKey))
        let name = r.name()
        var body: [String: JSONValue] = [:]
        if let team = r.string("team", maxLength: 128) {
            if !teams.contains(team) { r.issue("team", "unknown team \"\(team)\"") }
            body["team"] = .string(team)
        }
        let models = r.names("models") ?? ["*"]
        if models.isEmpty { r.issue("models", "list the models this key may use, or [\"*\"] for all") }
        body["models"] = .array(models.map(JSONValue.string))
        if let routes = r.stringMap("routes") { body["routes"] = .object(routes.mapValues(JSONValue.string)) }
        if let l = r.object("limits") { body["limits"] = l }
        if let l = r.object("model_limits") { body["model_limits"] = l }
        if let g = r.names("guardrails") { body["guardrails"] = .array(g.map(JSONValue.string)) }
        if let e = r.int("expires_at", in: 1...253_402_300_799) { body["expires_at"] = .integer(e) }
        if let d = r.string("description", maxLength: 1000) { body["description"] = .string(d) }
        labels("scope", &r, into: &body)
        try r.finish()
        for field in ["key_hash", "key_prefix", "revoked_at"] { body[field] = existing?.body[field] }
        return Input(name: name ?? "", body: body)
    }

    static func provider(_ value: JSONValue, existing: Resource?) throws(APIError) -> Input {
        var r = try FieldReader(value, allowed: ResourceFields.allowed(.provider))
        let name = r.name()
        var body: [String: JSONValue] = [:]
        if let kind = r.oneOf("kind", providerKinds, required: true) { body["kind"] = .string(kind) }
        if let url = r.string("base_url", required: true, maxLength: 2048) {
            if let u = URL(string: url), let scheme = u.scheme?.lowercased(), ["http", "https"].contains(scheme), u.host != nil {
                body["base_url"] = .string(url)
            } else {
                r.issue("base_url", "must be an http:// or https:// URL")
            }
        }
        if let h = r.stringMap("headers") { body["headers"] = .object(h.mapValues(JSONValue.string)) }
        if let v = r.string("api_version", maxLength: 64) { body["api_version"] = .string(v) }
        if let s = r.oneOf("auth_scheme", ["api-key", "bearer"]) { body["auth_scheme"] = .string(s) }
        if let b = r.object("budget") { body["budget"] = b }
        let given = ["api_key", "api_key_env", "api_key_file"].filter { r.has($0) }
        if given.count > 1 { r.issue(given[1], "set one of api_key, api_key_env, api_key_file") }
        // The plaintext is sealed by the caller (it needs the org and id for the AAD); it is
        // handed back separately and never stored in the body.
        if let key = r.string("api_key", maxLength: 8192) { body["api_key"] = .string(key) }
        if let env = r.string("api_key_env", maxLength: 256) {
            if env.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
                body["credential"] = .object(["type": .string("env"), "name": .string(env)])
            } else {
                r.issue("api_key_env", "must be an environment variable name")
            }
        }
        if let file = r.string("api_key_file", maxLength: 4096) {
            if file.hasPrefix("/") { body["credential"] = .object(["type": .string("file"), "path": .string(file)]) } else { r.issue("api_key_file", "must be an absolute path on the data plane") }
        }
        labels("scope", &r, into: &body)
        try r.finish()
        if given.isEmpty, let kept = existing?.body["credential"] { body["credential"] = kept }
        return Input(name: name ?? "", body: body)
    }

    static func model(_ value: JSONValue) throws(APIError) -> Input {
        var r = try FieldReader(value, allowed: ResourceFields.allowed(.model))
        let name = r.name()
        var body: [String: JSONValue] = ["enabled": .bool(r.bool("enabled") ?? true)]
        let route = r.string("route", maxLength: 128)
        let provider = r.string("provider", maxLength: 128)
        if route != nil && provider != nil { r.issue("provider", "set route or provider, not both") }
        if route == nil && provider == nil && !r.has("route") && !r.has("provider") { r.issue("route", "set route (a fallback chain) or provider") }
        if let route { body["route"] = .string(route) }
        if let provider { body["provider"] = .string(provider) }
        if let u = r.string("upstream_model", maxLength: 256) {
            if route != nil { r.issue("upstream_model", "only applies with provider") }
            body["upstream_model"] = .string(u)
        }
        if let l = r.object("limits") { body["limits"] = l }
        labels("scope", &r, into: &body)
        try r.finish()
        return Input(name: name ?? "", body: body)
    }

    static func route(_ value: JSONValue) throws(APIError) -> Input {
        var r = try FieldReader(value, allowed: ResourceFields.allowed(.route))
        let name = r.name()
        var body: [String: JSONValue] = [:]
        if let p = r.array("priorities", required: true, maxCount: 32) {
            if p.isEmpty { r.issue("priorities", "at least one priority level is required") }
            body["priorities"] = .array(p)
        }
        if let m = r.int("max_attempts", in: 1...64) { body["max_attempts"] = .integer(m) }
        if let g = r.names("guardrails") { body["guardrails"] = .array(g.map(JSONValue.string)) }
        labels("scope", &r, into: &body)
        try r.finish()
        return Input(name: name ?? "", body: body)
    }

    static func guardrailPolicy(_ value: JSONValue) throws(APIError) -> Input {
        var r = try FieldReader(value, allowed: ResourceFields.allowed(.guardrailPolicy))
        let name = r.name()
        var body: [String: JSONValue] = ["default": .bool(r.bool("default") ?? false)]
        if let c = r.array("checks", required: true, maxCount: 64) { body["checks"] = .array(c) }
        labels("scope", &r, into: &body)
        try r.finish()
        return Input(name: name ?? "", body: body)
    }

    /// A data plane's `labels` or a resource's `scope`: at most 16 pairs of names (letters,
    /// digits, `_-.`, ≤ 64 bytes) to short values.
    static func labels(_ field: String, _ r: inout FieldReader, into body: inout [String: JSONValue]) {
        guard let map = r.stringMap(field) else { return }
        if map.count > 16 { r.issue(field, "at most 16 labels") }
        for (k, v) in map.sorted(by: { $0.key < $1.key }) {
            if k.isEmpty || k.utf8.count > 64 || !k.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }) {
                r.issue("\(field).\(k)", "label names are 1-64 letters, digits, _, - or .")
            }
            if v.utf8.count > 128 { r.issue("\(field).\(k)", "label values are at most 128 bytes") }
        }
        if !map.isEmpty { body[field] = .object(map.mapValues(JSONValue.string)) }
    }

    static func dataplane(_ value: JSONValue, existing: Resource?) throws(APIError) -> Input {
        var r = try FieldReader(value, allowed: ResourceFields.allowed(.dataplane))
        let name = r.name()
        var body: [String: JSONValue] = [:]
        body["listeners"] = .array(r.array("listeners", maxCount: 16) ?? [.object(["address": .string("0.0.0.0"), "port": .integer(8080)])])
        if let l = r.object("limits") { body["limits"] = l }
        if let m = r.object("mock_provider") { body["mock_provider"] = m }
        if let d = r.string("description", maxLength: 1000) { body["description"] = .string(d) }
        labels("labels", &r, into: &body)
        try r.finish()
        // Server-owned: the credential, a pending registration, when it registered.
        for field in ["credential_hash", "registration", "registered_ms"] { body[field] = existing?.body[field] }
        return Input(name: name ?? "", body: body)
    }
}
