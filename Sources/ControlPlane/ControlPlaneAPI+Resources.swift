import ControlPlaneStore
import Foundation

/// CRUD on `/api/v1/orgs/{org}/{collection}[/{id}]`.
extension ControlPlaneAPI {
    func list(_ request: APIRequest, org: String, kind: ResourceKind) async throws(APIError) -> APIResponse {
        let principal = try await authenticate(request)
        try requireOrg(principal, org)
        let decision: AccessPolicy.Decision
        if case .user(_, _, _, let role, _) = principal { decision = AccessPolicy.decide(role, kind, .read) } else { decision = .allow }
        if decision == .deny { try authorize(principal, kind, .read, team: nil) }
        let (limit, after) = try request.page()
        do {
            _ = try await store.organization(id: org)
            let page = try await store.resources(kind: kind.rawValue, orgID: org, limit: limit, after: after, namePrefix: request.query["name_prefix"])
            var items = page.items
            if decision == .teamScoped {
                items = items.filter { (try? authorize(principal, kind, .read, team: Self.teams(of: kind, $0.body))) != nil }
            }
            var views: [JSONValue] = []
            for item in items { views.append(await view(item)) }
            return .page(views, next: page.next)
        } catch { throw storeFailure(error) }
    }

    func get(_ request: APIRequest, org: String, kind: ResourceKind, id: String) async throws(APIError) -> APIResponse {
        let principal = try await authenticate(request)
        try requireOrg(principal, org)
        let resource = try await load(kind, id, org: org)
        try authorize(principal, kind, .read, team: Self.teams(of: kind, resource.body))
        return .json(await view(resource), etag: "\"\(resource.version)\"")
    }

    func create(_ request: APIRequest, org: String, kind: ResourceKind) async throws(APIError) -> APIResponse {
        let principal = try await authenticate(request)
        try requireOrg(principal, org)
        let existing = try await orgResources(org)
        var input = try ResourceSchema.validate(kind, try request.requireBody(), existing: nil, teams: Self.names(.team, existing))
        try authorize(principal, kind, .create, team: Self.teams(of: kind, .object(input.body)))
        let id = Tokens.id(kind.idPrefix)
        var extra: [String: JSONValue] = [:]
        switch kind {
        case .apiKey:
            let secret = Tokens.secret("tg_")
            input.body["key_hash"] = .string(Tokens.hash(secret))
            input.body["key_prefix"] = .string(String(secret.prefix(10)))
            extra["secret"] = .string(secret)
        case .dataplane:
            let credential = Tokens.secret("tgdp_")
            input.body["credential_hash"] = .string(Tokens.hash(credential))
            extra["credential"] = .string(credential)
        case .provider:
            try seal(&input, org: org, id: id)
        default:
            break
        }
        let body = JSONValue.object(input.body)
        do {
            let created = try await store.create(kind: kind.rawValue, id: id, orgID: org, name: input.name, body: body,
                                                 change: change(principal, request), check: configCheck(kind, changedID: id))
            return .json(await view(created, extra: extra), status: 201, etag: "\"\(created.version)\"")
        } catch { throw storeFailure(error) }
    }

    func replace(_ request: APIRequest, org: String, kind: ResourceKind, id: String) async throws(APIError) -> APIResponse {
        let principal = try await authenticate(request)
        try requireOrg(principal, org)
        let expected = try request.expectedVersion()
        let existing = try await orgResources(org)
        guard let current = existing.first(where: { $0.kind == kind.rawValue && $0.id == id }) else { throw .notFound("\(kind.rawValue) \(id)") }
        try authorize(principal, kind, .update, team: Self.teams(of: kind, current.body))
        var input = try ResourceSchema.validate(kind, try request.requireBody(), existing: current, teams: Self.names(.team, existing))
        try authorize(principal, kind, .update, team: Self.teams(of: kind, .object(input.body)))
        if kind == .provider { try seal(&input, org: org, id: id) }
        do {
            let updated = try await store.update(kind: kind.rawValue, id: id, name: input.name, body: .object(input.body),
                                                 expectedVersion: expected, change: change(principal, request), check: configCheck(kind, changedID: id))
            return .json(await view(updated), etag: "\"\(updated.version)\"")
        } catch { throw storeFailure(error) }
    }

    func delete(_ request: APIRequest, org: String, kind: ResourceKind, id: String) async throws(APIError) -> APIResponse {
        let principal = try await authenticate(request)
        try requireOrg(principal, org)
        let expected = try request.expectedVersion()
        let existing = try await orgResources(org)
        guard let current = existing.first(where: { $0.kind == kind.rawValue && $0.id == id }) else { throw .notFound("\(kind.rawValue) \(id)") }
        try authorize(principal, kind, .delete, team: Self.teams(of: kind, current.body))
        if kind == .team {
            let members = existing.filter { resource in
                guard let k = ResourceKind(rawValue: resource.kind), k == .user || k == .apiKey else { return false }
                return (Self.teams(of: k, resource.body) ?? []).contains(current.name)
            }
            if let first = members.first {
                throw .conflict("team \(current.name) is still used by \(first.kind) \(first.name) (and \(members.count - 1) more)")
            }
        }
        do {
            try await store.delete(kind: kind.rawValue, id: id, expectedVersion: expected, change: change(principal, request),
                                   check: configCheck(kind, changedID: nil))
            return APIResponse(status: 204)
        } catch { throw storeFailure(error) }
    }

    // MARK: - Helpers

    func load(_ kind: ResourceKind, _ id: String, org: String) async throws(APIError) -> Resource {
        do {
            let r = try await store.resource(kind: kind.rawValue, id: id)
            guard r.orgID == org else { throw APIError.notFound("\(kind.rawValue) \(id)") }
            return r
        } catch { throw storeFailure(error) }
    }

    func orgResources(_ org: String) async throws(APIError) -> [Resource] {
        do {
            _ = try await store.organization(id: org)
            return try await store.allResources(orgID: org)
        } catch { throw storeFailure(error) }
    }

    static func names(_ kind: ResourceKind, _ resources: [Resource]) -> Set<String> {
        Set(resources.filter { $0.kind == kind.rawValue }.map(\.name))
    }

    /// A provider's plaintext `api_key` becomes a sealed credential bound to this org and id.
    func seal(_ input: inout ResourceSchema.Input, org: String, id: String) throws(APIError) {
        guard let plaintext = input.body.removeValue(forKey: "api_key")?.stringValue else { return }
        guard let box = settings.secretBox else {
            throw .validation([.init(path: "api_key", message: "this control plane has no master key (TOLLGATE_CP_MASTER_KEY or --master-key-file), so it cannot store credentials; use api_key_env or api_key_file")])
        }
        do {
            let sealed = try box.seal(plaintext, context: ConfigRenderer.sealContext(orgID: org, providerID: id))
            input.body["credential"] = .object(["type": .string("stored"), "key_id": .string(box.activeKeyID), "sealed": .string(sealed)])
        } catch {
            throw .internal("cannot seal the credential: \(error)")
        }
    }

    /// The check the store runs inside the change's transaction (see `ControlPlaneStore.Check`).
    func configCheck(_ kind: ResourceKind, changedID: String?) -> ControlPlaneStore.Check? {
        guard kind.affectsConfig else { return nil }
        return { [self] after in
            let changed = changedID.flatMap { id in after.first { $0.kind == kind.rawValue && $0.id == id } }
            try checkConfig(kind, after: after, changed: changed)
        }
    }

    /// Compiles the org's config as it would be after the change with the gateway's loader;
    /// any issue rejects the change with the resource and field it concerns.
    ///
    /// With scoped resources each data plane runs its own config, so the check compiles each
    /// data plane's (issues name the data plane); an org without data planes is checked as one
    /// config of everything.
    func checkConfig(_ kind: ResourceKind, after resources: [Resource], changed: Resource?) throws(APIError) {
        let renderer = ConfigRenderer(mode: .validation, nowSeconds: clock() / 1000)
        var issues: [APIError.Issue] = []
        let dataplanes = resources.filter { $0.kind == ResourceKind.dataplane.rawValue }
        let scoped = resources.contains { $0.body["scope"] != nil }
        do {
            if scoped, !dataplanes.isEmpty {
                for dp in dataplanes.sorted(by: { $0.name < $1.name }) {
                    var view = ConfigValidation.checkDataplane.objectValue ?? [:]
                    if kind == .dataplane && dp.id == changed?.id { view = dp.body.objectValue ?? view }
                    view["labels"] = dp.body["labels"]
                    issues += ConfigValidation.check(try renderer.render(resources: resources, dataplane: .object(view))).map {
                        APIError.Issue(path: "dataplane/\(dp.name): \($0.path)", message: $0.message)
                    }
                }
            } else {
                let all = resources.map { r -> Resource in
                    var r = r
                    r.body = .object((r.body.objectValue ?? [:]).filter { $0.key != "scope" })
                    return r
                }
                let dataplane = kind == .dataplane ? (changed?.body ?? ConfigValidation.checkDataplane) : ConfigValidation.checkDataplane
                issues = ConfigValidation.check(try renderer.render(resources: all, dataplane: dataplane))
            }
        } catch {
            throw .internal("cannot render the config: \(error)")
        }
        if !issues.isEmpty {
            var error = APIError.validation(issues)
            error.code = "invalid_config"
            error.message = "the change would make the gateway config invalid: \(error.message)"
            throw error
        }
    }

    /// The API view, with a data plane's heartbeat status.
    func view(_ r: Resource, extra: [String: JSONValue] = [:]) async -> JSONValue {
        var extra = extra
        if r.kind == ResourceKind.dataplane.rawValue {
            let status = try? await store.status(dataplaneID: r.id)
            extra["status"] = statusView(status)
        }
        return ResourceView.render(r, extra: extra)
    }

    func statusView(_ status: DataPlaneStatus?) -> JSONValue {
        guard let status else { return .object(["reachable": .bool(false), "last_seen_ms": .null, "polls": .integer(0), "missed_polls": .null]) }
        let health = DataPlaneHealth(lastSeenMs: status.lastSeenMs, pollIntervalMs: status.pollIntervalMs ?? settings.defaultPollIntervalMs,
                                     unreachableAfterMissedPolls: settings.unreachableAfterMissedPolls, nowMs: clock())
        let out: [String: JSONValue] = [
            "reachable": .bool(health.reachable), "missed_polls": .integer(health.missedPolls), "poll_interval_ms": .integer(health.pollIntervalMs),
            "last_seen_ms": .integer(status.lastSeenMs), "polls": .integer(status.polls),
            "served_etag": status.servedETag.map(JSONValue.string) ?? .null, "applied_etag": status.appliedETag.map(JSONValue.string) ?? .null,
            "in_sync": .bool(status.servedETag != nil && status.servedETag == status.appliedETag),
            "agent_version": status.agentVersion.map(JSONValue.string) ?? .null, "last_error": status.lastError.map(JSONValue.string) ?? .null,
        ]
        return .object(out)
    }
}
