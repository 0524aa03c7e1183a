/// The resource collections under `/api/v1/orgs/{org}/`.
public enum ResourceKind: String, Sendable, CaseIterable {
    case team
    case user
    case apiKey = "api-key"
    case provider
    case model
    case route
    case guardrailPolicy = "guardrail-policy"
    case dataplane

    /// The URL segment.
    public var collection: String {
        switch self {
        case .team: return "teams"
        case .user: return "users"
        case .apiKey: return "api-keys"
        case .provider: return "providers"
        case .model: return "models"
        case .route: return "routes"
        case .guardrailPolicy: return "guardrail-policies"
        case .dataplane: return "dataplanes"
        }
    }

    public init?(collection: String) {
        guard let kind = Self.allCases.first(where: { $0.collection == collection }) else { return nil }
        self = kind
    }

    var idPrefix: String {
        switch self {
        case .team: return "team"
        case .user: return "usr"
        case .apiKey: return "key"
        case .provider: return "prv"
        case .model: return "mdl"
        case .route: return "rte"
        case .guardrailPolicy: return "grp"
        case .dataplane: return "dp"
        }
    }

    /// Whether a change can alter what data planes receive (and so is checked by compiling it).
    var affectsConfig: Bool { self != .user }
}
