import ControlPlaneStore
import Foundation

/// One-time registration of a data plane: an operator asks for a registration token
/// (`POST /orgs/{org}/dataplanes/{id}/registration-token`, shown once, expiring), hands it
/// to whoever installs the data plane, and the data plane exchanges it for its long-lived
/// credential (`POST /dataplanes/{id}/register`) on first start. Only the token's hash is
/// stored; the exchange is a compare-and-swap on the data plane's version, so of two
/// concurrent exchanges exactly one gets a credential, and the token is gone afterwards.
extension ControlPlaneAPI {
    static let defaultRegistrationSeconds: Int64 = 3600

    func createRegistrationToken(_ request: APIRequest, org: String, id: String) async throws(APIError) -> APIResponse {
        let principal = try await authenticate(request)
        try requireOrg(principal, org)
        let dp = try await load(.dataplane, id, org: org)
        try authorize(principal, .dataplane, .update, team: nil)
        var r = try FieldReader(request.body ?? .object([:]), allowed: ["expires_in_seconds"])
        let seconds = r.int("expires_in_seconds", in: 60...(7 * 86_400)) ?? Self.defaultRegistrationSeconds
        try r.finish()
        let token = Tokens.secret("tgdr_")
        let expires = clock() + seconds * 1000
        var body = dp.body.objectValue ?? [:]
        body["registration"] = .object(["token_hash": .string(Tokens.hash(token)), "expires_ms": .integer(expires)])
        do {
            let updated = try await store.update(kind: ResourceKind.dataplane.rawValue, id: id, name: dp.name, body: .object(body),
                                                 expectedVersion: try request.expectedVersion(), action: "registration-token",
                                                 change: change(principal, request))
            return .json(.object(["dataplane_id": .string(id), "registration_token": .string(token), "expires_ms": .integer(expires),
                                  "version": .integer(updated.version)]), status: 201, etag: "\"\(updated.version)\"")
        } catch { throw storeFailure(error) }
    }

    /// The exchange. Every failure is the same 401 (unknown id, wrong, used or expired token),
    /// so neither ids nor token states can be probed.
    func register(_ request: APIRequest, id: String) async throws(APIError) -> APIResponse {
        guard let token = request.bearer(), token.hasPrefix("tgdr_") else { throw .unauthorized }
        let dp: Resource
        do { dp = try await store.resource(kind: ResourceKind.dataplane.rawValue, id: id) } catch { throw .unauthorized }
        guard let registration = dp.body["registration"], let hash = registration["token_hash"]?.stringValue,
              Tokens.equal(Tokens.hash(token), hash) else { throw .unauthorized }
        guard let expires = registration["expires_ms"]?.intValue, clock() < expires else {
            throw APIError(status: 401, code: "registration_expired", message: "the registration token has expired; ask for a new one")
        }
        let credential = Tokens.secret("tgdp_")
        var body = dp.body.objectValue ?? [:]
        body["registration"] = nil
        body["credential_hash"] = .string(Tokens.hash(credential))
        body["registered_ms"] = .integer(clock())
        let change = Change(actor: AuditActor(actor: "dataplane:\(id)", sourceIP: request.sourceIP), nowMs: clock())
        do {
            _ = try await store.update(kind: ResourceKind.dataplane.rawValue, id: id, name: dp.name, body: .object(body),
                                       expectedVersion: dp.version, action: "register", change: change)
        } catch StoreError.versionMismatch {
            // Someone else changed it first (a concurrent exchange, a new token): not this one.
            throw .unauthorized
        } catch { throw storeFailure(error) }
        return .json(.object(["dataplane_id": .string(id), "credential": .string(credential)]))
    }
}
