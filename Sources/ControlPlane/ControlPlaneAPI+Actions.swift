import ControlPlaneStore
import Foundation

/// `POST /api/v1/orgs/{org}/{collection}/{id}/{action}`: key rotation and revocation,
/// data-plane credential rotation, personal access tokens.
extension ControlPlaneAPI {
    func action(_ request: APIRequest, org: String, kind: ResourceKind, id: String, action: String) async throws(APIError) -> APIResponse {
        switch (kind, action) {
        case (.apiKey, "rotate"): return try await rotateKey(request, org: org, id: id)
        case (.apiKey, "revoke"): return try await revokeKey(request, org: org, id: id)
        case (.dataplane, "rotate-credential"): return try await rotateDataplaneCredential(request, org: org, id: id)
        case (.dataplane, "registration-token"): return try await createRegistrationToken(request, org: org, id: id)
        case (.user, "tokens"): return try await createToken(request, org: org, userID: id)
        default: throw .notFound("action \(action) on \(kind.collection)")
        }
    }

    /// A new secret for the same key (same name, limits, permissions); the old one stops
    /// working on every data plane at its next poll.
    func rotateKey(_ request: APIRequest, org: String, id: String) async throws(APIError) -> APIResponse {
        let principal = try await authenticate(request)
        try requireOrg(principal, org)
        let key = try await load(.apiKey, id, org: org)
        try authorize(principal, .apiKey, .update, team: Self.teams(of: .apiKey, key.body))
        guard key.body["revoked_at"] == nil else { throw .conflict("API key \(key.name) is revoked; create a new one") }
        let secret = Tokens.secret("tg_")
        var body = key.body.objectValue ?? [:]
        body["key_hash"] = .string(Tokens.hash(secret))
        body["key_prefix"] = .string(String(secret.prefix(10)))
        do {
            let updated = try await store.update(kind: ResourceKind.apiKey.rawValue, id: id, name: key.name, body: .object(body),
                                                 expectedVersion: try request.expectedVersion(), action: "rotate", change: change(principal, request))
            return .json(await view(updated, extra: ["secret": .string(secret)]), etag: "\"\(updated.version)\"")
        } catch { throw storeFailure(error) }
    }

    func revokeKey(_ request: APIRequest, org: String, id: String) async throws(APIError) -> APIResponse {
        let principal = try await authenticate(request)
        try requireOrg(principal, org)
        let key = try await load(.apiKey, id, org: org)
        try authorize(principal, .apiKey, .update, team: Self.teams(of: .apiKey, key.body))
        if key.body["revoked_at"] != nil { return .json(await view(key), etag: "\"\(key.version)\"") }
        var body = key.body.objectValue ?? [:]
        body["revoked_at"] = .integer(clock() / 1000)
        do {
            let updated = try await store.update(kind: ResourceKind.apiKey.rawValue, id: id, name: key.name, body: .object(body),
                                                 expectedVersion: try request.expectedVersion(), action: "revoke", change: change(principal, request))
            return .json(await view(updated), etag: "\"\(updated.version)\"")
        } catch { throw storeFailure(error) }
    }

    func rotateDataplaneCredential(_ request: APIRequest, org: String, id: String) async throws(APIError) -> APIResponse {
        let principal = try await authenticate(request)
        try requireOrg(principal, org)
        let dp = try await load(.dataplane, id, org: org)
        try authorize(principal, .dataplane, .update, team: nil)
        let credential = Tokens.secret("tgdp_")
        var body = dp.body.objectValue ?? [:]
        body["credential_hash"] = .string(Tokens.hash(credential))
        do {
            let updated = try await store.update(kind: ResourceKind.dataplane.rawValue, id: id, name: dp.name, body: .object(body),
                                                 expectedVersion: try request.expectedVersion(), action: "rotate-credential",
                                                 change: change(principal, request))
            return .json(await view(updated, extra: ["credential": .string(credential)]), etag: "\"\(updated.version)\"")
        } catch { throw storeFailure(error) }
    }

    /// A personal access token for a user: by an admin (or the bootstrap admin) for anyone,
    /// by a user for themself. Shown once.
    func createToken(_ request: APIRequest, org: String, userID: String) async throws(APIError) -> APIResponse {
        let principal = try await authenticate(request)
        try requireOrg(principal, org)
        let user = try await load(.user, userID, org: org)
        if case .user(let callerID, _, _, let role, _) = principal, role != .admin, callerID != userID {
            throw .forbidden("only an admin creates tokens for other users")
        }
        var r = try FieldReader(request.body ?? .object([:]), allowed: ["name", "expires_in_days"])
        let name = r.string("name", maxLength: 128) ?? "token"
        let days = r.int("expires_in_days", in: 1...3650)
        try r.finish()
        let secret = Tokens.secret("tgp_")
        let now = clock()
        let token = AccessToken(id: Tokens.id("pat"), tokenHash: Tokens.hash(secret), userID: user.id, orgID: org, name: name,
                                createdMs: now, expiresMs: days.map { now + $0 * 86_400_000 }, revokedMs: nil)
        do {
            try await store.createToken(token, change: change(principal, request))
        } catch { throw storeFailure(error) }
        return .json(.object(["id": .string(token.id), "name": .string(name), "user_id": .string(user.id), "token": .string(secret),
                              "expires_ms": token.expiresMs.map(JSONValue.integer) ?? .null]), status: 201)
    }

    func revokeToken(_ request: APIRequest, org: String, userID: String, tokenID: String) async throws(APIError) -> APIResponse {
        let principal = try await authenticate(request)
        try requireOrg(principal, org)
        _ = try await load(.user, userID, org: org)
        if case .user(let callerID, _, _, let role, _) = principal, role != .admin, callerID != userID {
            throw .forbidden("only an admin revokes other users' tokens")
        }
        do {
            guard try await store.tokens(userID: userID).contains(where: { $0.id == tokenID }) else { throw APIError.notFound("token \(tokenID)") }
            try await store.revokeToken(id: tokenID, change: change(principal, request))
            return APIResponse(status: 204)
        } catch { throw storeFailure(error) }
    }

    func listTokens(_ request: APIRequest, org: String, userID: String) async throws(APIError) -> APIResponse {
        let principal = try await authenticate(request)
        try requireOrg(principal, org)
        _ = try await load(.user, userID, org: org)
        if case .user(let callerID, _, _, let role, _) = principal, role != .admin, callerID != userID {
            throw .forbidden("only an admin lists other users' tokens")
        }
        do {
            let tokens = try await store.tokens(userID: userID)
            return .page(tokens.map { t in
                .object(["id": .string(t.id), "name": .string(t.name), "created_ms": .integer(t.createdMs),
                         "expires_ms": t.expiresMs.map(JSONValue.integer) ?? .null, "revoked_ms": t.revokedMs.map(JSONValue.integer) ?? .null])
            }, next: nil)
        } catch { throw storeFailure(error) }
    }

    // MARK: - Audit

    func auditLog(_ request: APIRequest) async throws(APIError) -> APIResponse {
        let principal = try await authenticate(request)
        var org = request.query["org"]
        if case .user(_, _, let own, let role, _) = principal {
            guard role == .admin else { throw .forbidden("only an admin reads the audit log") }
            if let org, org != own { throw .notFound("organization \(org)") }
            org = own
        }
        var limit = 100
        if let text = request.query["limit"] {
            guard let n = Int(text), (1...1000).contains(n) else { throw .badRequest("limit must be between 1 and 1000", field: "limit") }
            limit = n
        }
        var after: Int64 = 0
        if let text = request.query["after"] {
            guard let n = Int64(text), n >= 0 else { throw .badRequest("after must be a sequence number", field: "after") }
            after = n
        }
        do {
            let entries = try await store.auditEntries(orgID: org, afterSeq: after, limit: limit)
            return .page(entries.map(ResourceView.render), next: entries.count == limit ? entries.last.map { String($0.seq) } : nil)
        } catch { throw storeFailure(error) }
    }

    /// The whole chain, checked (it spans all orgs, so only the bootstrap admin may).
    func verifyAudit(_ request: APIRequest) async throws(APIError) -> APIResponse {
        let principal = try await authenticate(request)
        guard principal == .superuser else { throw .forbidden("only the bootstrap admin verifies the whole audit chain") }
        do {
            let result = try await store.verifyAudit()
            var body: [String: JSONValue] = ["ok": .bool(result.ok), "entries": .integer(result.entries), "head_hash": .string(result.headHash)]
            if let at = result.brokenAt { body["broken_at"] = .integer(at) }
            if let problem = result.problem { body["problem"] = .string(problem) }
            return .json(.object(body))
        } catch { throw storeFailure(error) }
    }
}
