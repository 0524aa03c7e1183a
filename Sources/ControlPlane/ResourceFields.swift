import ControlPlaneStore

/// The request fields of each collection, in one table: `ResourceSchema` accepts exactly these
/// (anything else is an "unknown field" issue) and `OpenAPIDocument` describes them, so the
/// document cannot drift from what the API takes.
enum ResourceFields {
    enum FieldType {
        case string, integer, boolean, object, array, names, stringMap

        var schema: [String: JSONValue] {
            switch self {
            case .string: return ["type": "string"]
            case .integer: return ["type": "integer"]
            case .boolean: return ["type": "boolean"]
            case .object: return ["type": "object"]
            case .array: return ["type": "array", "items": ["type": "object"]]
            case .names: return ["type": "array", "items": ["type": "string"]]
            case .stringMap: return ["type": "object", "additionalProperties": ["type": "string"]]
            }
        }
    }

    struct Field {
        var name: String
        var type: FieldType
        var required = false
        var note: String? = nil
    }

    static func of(_ kind: ResourceKind) -> [Field] {
        switch kind {
        case .team:
            return [.init(name: "name", type: .string, required: true), .init(name: "description", type: .string),
                    .init(name: "limits", type: .object, note: "the gateway config's limits mapping")]
        case .user:
            return [.init(name: "email", type: .string, required: true),
                    .init(name: "role", type: .string, required: true, note: "admin, operator, developer or viewer"),
                    .init(name: "teams", type: .names), .init(name: "display_name", type: .string)]
        case .apiKey:
            return [.init(name: "name", type: .string, required: true), .init(name: "team", type: .string),
                    .init(name: "models", type: .names, note: "default [\"*\"]"), .init(name: "routes", type: .stringMap),
                    .init(name: "limits", type: .object), .init(name: "model_limits", type: .object), .init(name: "guardrails", type: .names),
                    .init(name: "expires_at", type: .integer, note: "Unix seconds"), .init(name: "description", type: .string), scope]
        case .provider:
            return [.init(name: "name", type: .string, required: true),
                    .init(name: "kind", type: .string, required: true, note: ResourceSchema.providerKinds.joined(separator: ", ")),
                    .init(name: "base_url", type: .string, required: true), .init(name: "headers", type: .stringMap),
                    .init(name: "api_version", type: .string), .init(name: "auth_scheme", type: .string), .init(name: "budget", type: .object),
                    .init(name: "api_key", type: .string, note: "write-only: sealed with AES-GCM, never returned"),
                    .init(name: "api_key_env", type: .string, note: "resolved on the data plane"),
                    .init(name: "api_key_file", type: .string, note: "resolved on the data plane"), scope]
        case .model:
            return [.init(name: "name", type: .string, required: true), .init(name: "route", type: .string), .init(name: "provider", type: .string),
                    .init(name: "upstream_model", type: .string), .init(name: "enabled", type: .boolean), .init(name: "limits", type: .object), scope]
        case .route:
            return [.init(name: "name", type: .string, required: true),
                    .init(name: "priorities", type: .array, required: true, note: "[{backends: [{provider, model, weight}]}]"),
                    .init(name: "max_attempts", type: .integer), .init(name: "guardrails", type: .names), scope]
        case .guardrailPolicy:
            return [.init(name: "name", type: .string, required: true), .init(name: "checks", type: .array, required: true),
                    .init(name: "default", type: .boolean), scope]
        case .dataplane:
            return [.init(name: "name", type: .string, required: true), .init(name: "listeners", type: .array), .init(name: "limits", type: .object),
                    .init(name: "mock_provider", type: .object), .init(name: "description", type: .string),
                    .init(name: "labels", type: .stringMap, note: "e.g. {\"region\": \"eu\"}: receives the resources whose scope these labels satisfy")]
        }
    }

    static func allowed(_ kind: ResourceKind) -> Set<String> { Set(of(kind).map(\.name)) }

    /// The field every scoped collection shares.
    static var scope: Field { .init(name: "scope", type: .stringMap, note: "labels a data plane must all have to receive this (absent: every data plane)") }
}
