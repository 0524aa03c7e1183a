import ControlPlaneStore
import Foundation
import Logging

/// What the control plane is configured with (beyond its database).
public struct ControlPlaneSettings: Sendable {
    /// SHA-256 of the bootstrap admin token (`sha256:<hex>`); nil disables it.
    public var adminTokenHash: String?
    /// Seals provider credentials; nil means the API refuses stored credentials.
    public var secretBox: SecretBox?
    /// A data plane that missed this many consecutive polls (at the interval it reports) is
    /// shown as unreachable.
    public var unreachableAfterMissedPolls: Int
    /// The interval assumed for a data plane that does not report one (the data plane's default).
    public var defaultPollIntervalMs: Int64
    public var maxBodyBytes: Int

    public init(adminTokenHash: String?, secretBox: SecretBox?, unreachableAfterMissedPolls: Int = 3, defaultPollIntervalMs: Int64 = 10_000,
                maxBodyBytes: Int = 1 << 20) {
        self.adminTokenHash = adminTokenHash
        self.secretBox = secretBox
        self.unreachableAfterMissedPolls = max(1, unreachableAfterMissedPolls)
        self.defaultPollIntervalMs = max(100, defaultPollIntervalMs)
        self.maxBodyBytes = maxBodyBytes
    }
}

/// The REST API's logic: authentication, the access table, validation, the store calls and
/// the data-plane config protocol. Knows nothing about HTTP framing (`ControlPlaneServer`
/// adapts Hummingbird to `APIRequest`/`APIResponse`).
final class ControlPlaneAPI: Sendable {
    let store: ControlPlaneStore
    let settings: ControlPlaneSettings
    let logger: Logger
    let clock: @Sendable () -> Int64

    init(store: ControlPlaneStore, settings: ControlPlaneSettings, logger: Logger,
         clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.store = store
        self.settings = settings
        self.logger = logger
        self.clock = clock
    }

    // MARK: - Authentication and access

    func authenticate(_ request: APIRequest) async throws(APIError) -> Principal {
        guard let token = request.bearer() else { throw .unauthorized }
        let hash = Tokens.hash(token)
        if let admin = settings.adminTokenHash, Tokens.equal(hash, admin) { return .superuser }
        let stored: AccessToken?
        do { stored = try await store.token(hash: hash) } catch { throw storeFailure(error) }
        guard let stored, Tokens.equal(stored.tokenHash, hash), stored.revokedMs == nil else { throw .unauthorized }
        if let expires = stored.expiresMs, expires <= clock() { throw .unauthorized }
        let user: Resource
        do { user = try await store.resource(kind: ResourceKind.user.rawValue, id: stored.userID) } catch { throw .unauthorized }
        guard let role = user.body["role"]?.stringValue.flatMap(Role.init(rawValue:)) else { throw .unauthorized }
        let teams = user.body["teams"]?.arrayValue?.compactMap(\.stringValue) ?? []
        return .user(id: user.id, email: user.name, orgID: user.orgID, role: role, teams: teams)
    }

    /// The org must be the caller's own (or any, for the bootstrap admin).
    func requireOrg(_ principal: Principal, _ orgID: String) throws(APIError) {
        if case .user(_, _, let own, _, _) = principal, own != orgID { throw .notFound("organization \(orgID)") }
    }

    /// Applies the access table; `team` is the resource's team for team-scoped decisions
    /// (nil: the resource has none, which a team-scoped caller may not touch).
    func authorize(_ principal: Principal, _ kind: ResourceKind, _ verb: Verb, team: [String]?) throws(APIError) {
        guard case .user(_, _, _, let role, let teams) = principal else { return }
        switch AccessPolicy.decide(role, kind, verb) {
        case .allow: return
        case .deny: throw .forbidden("role \(role.rawValue) may not \(verb.rawValue) \(kind.collection)")
        case .teamScoped:
            guard let team, !Set(team).isDisjoint(with: teams) else {
                throw .forbidden("role \(role.rawValue) may \(verb.rawValue) only \(kind.collection) of its own teams (\(teams.joined(separator: ", ")))")
            }
        }
    }

    static func teams(of kind: ResourceKind, _ body: JSONValue) -> [String]? {
        switch kind {
        case .apiKey: return body["team"]?.stringValue.map { [$0] }
        case .user: return body["teams"]?.arrayValue?.compactMap(\.stringValue)
        default: return nil
        }
    }

    func change(_ principal: Principal, _ request: APIRequest) -> Change {
        Change(actor: AuditActor(actor: principal.actor, sourceIP: request.sourceIP), nowMs: clock())
    }

    func storeFailure(_ error: any Error) -> APIError {
        if let e = error as? APIError { return e }
        if let e = error as? StoreError {
            let mapped = APIError.from(e)
            if mapped.status >= 500 { logger.error("store operation failed", metadata: ["error": "\(e)"]) }
            return mapped
        }
        logger.error("store operation failed", metadata: ["error": "\(error)"])
        return .internal("the database failed; see the control plane's log")
    }

    // MARK: - Organisations

    func listOrganizations(_ request: APIRequest) async throws(APIError) -> APIResponse {
        let principal = try await authenticate(request)
        if case .user(_, _, let orgID, _, _) = principal {
            do { return .page([ResourceView.render(try await store.organization(id: orgID))], next: nil) } catch { throw storeFailure(error) }
        }
        let (limit, after) = try request.page()
        do {
            let page = try await store.organizations(limit: limit, after: after)
            return .page(page.items.map(ResourceView.render), next: page.next)
        } catch { throw storeFailure(error) }
    }

    func createOrganization(_ request: APIRequest) async throws(APIError) -> APIResponse {
        let principal = try await authenticate(request)
        guard principal == .superuser else { throw .forbidden("only the bootstrap admin creates organizations") }
        var r = try FieldReader(try request.requireBody(), allowed: ["name", "description"])
        let name = r.name()
        var body: [String: JSONValue] = [:]
        if let d = r.string("description", maxLength: 1000) { body["description"] = .string(d) }
        try r.finish()
        do {
            let org = try await store.createOrganization(id: Tokens.id("org"), name: name ?? "", body: .object(body), change: change(principal, request))
            return .json(ResourceView.render(org), status: 201, etag: "\"\(org.version)\"")
        } catch StoreError.conflict {
            throw .conflict("an organization named \"\(name ?? "")\" already exists")
        } catch { throw storeFailure(error) }
    }

    func getOrganization(_ request: APIRequest, org: String) async throws(APIError) -> APIResponse {
        let principal = try await authenticate(request)
        try requireOrg(principal, org)
        do {
            let o = try await store.organization(id: org)
            return .json(ResourceView.render(o), etag: "\"\(o.version)\"")
        } catch { throw storeFailure(error) }
    }

    func me(_ request: APIRequest) async throws(APIError) -> APIResponse {
        switch try await authenticate(request) {
        case .superuser:
            return .json(.object(["principal": .string("bootstrap-admin")]))
        case .user(let id, let email, let org, let role, let teams):
            return .json(.object(["principal": .string("user"), "id": .string(id), "email": .string(email), "org_id": .string(org),
                                  "role": .string(role.rawValue), "teams": .array(teams.map(JSONValue.string))]))
        }
    }
}
