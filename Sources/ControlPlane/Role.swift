/// A user's role in their organisation.
public enum Role: String, Sendable, CaseIterable, Codable {
    /// Everything in the org, including users and roles.
    case admin
    /// Providers, models, routes, guardrails, data planes and every team's API keys.
    case `operator`
    /// Their own teams' API keys; reads the rest.
    case developer
    /// Reads only.
    case viewer
}

/// What a request does to a resource.
public enum Verb: String, Sendable, CaseIterable {
    case read, create, update, delete
}

/// Who is calling.
public enum Principal: Sendable, Equatable {
    /// The bootstrap admin token: every org, and the only one who creates orgs.
    case superuser
    case user(id: String, email: String, orgID: String, role: Role, teams: [String])

    var actor: String {
        switch self {
        case .superuser: return "bootstrap-admin"
        case .user(let id, let email, _, _, _): return "user:\(id) <\(email)>"
        }
    }
}

/// The role × resource × verb table, in one place. `teamScoped` means allowed only for
/// resources of one of the caller's teams (the caller must check the resource's team).
public enum AccessPolicy {
    public enum Decision: Sendable, Equatable {
        case allow
        case teamScoped
        case deny
    }

    public static func decide(_ role: Role, _ kind: ResourceKind, _ verb: Verb) -> Decision {
        switch role {
        case .admin:
            return .allow
        case .operator:
            if verb == .read { return .allow }
            switch kind {
            case .provider, .model, .route, .guardrailPolicy, .dataplane, .apiKey: return .allow
            case .team, .user: return .deny
            }
        case .developer:
            switch kind {
            case .apiKey: return .teamScoped
            case .user: return verb == .read ? .teamScoped : .deny
            default: return verb == .read ? .allow : .deny
            }
        case .viewer:
            return verb == .read ? .allow : .deny
        }
    }
}
