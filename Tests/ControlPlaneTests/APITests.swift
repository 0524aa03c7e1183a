import Config
import ControlPlaneStore
import Foundation
import Testing
@testable import ControlPlane

@Suite struct APITests {
    @Test(arguments: TestBackend.allCases)
    func bootstrapAdminCreatesOrgsAndUsersAuthenticateWithTokens(_ backend: TestBackend) async throws {
        let h = try await APIHarness(backend)
        defer { Task { await h.stop() } }
        #expect(try await h.call("GET", "/api/v1/orgs", token: nil).status == 401)
        #expect(try await h.call("GET", "/api/v1/orgs", token: "wrong-token").errorCode == "unauthorized")
        let org = try await h.makeOrg()
        let me = try await h.call("GET", "/api/v1/me", token: org.tokens[.developer])
        #expect(me["role"] == "developer")
        #expect(me["teams"] == ["search"])
        // A user sees only their own org and cannot create orgs.
        let other = try await h.makeOrg("globex")
        #expect(try await h.call("GET", "/api/v1/orgs/\(other.id)", token: org.tokens[.admin]).status == 404)
        #expect(try await h.call("GET", "/api/v1/orgs", token: org.tokens[.admin])["items"]?.arrayValue?.count == 1)
        #expect(try await h.call("POST", "/api/v1/orgs", token: org.tokens[.admin], body: ["name": "mine"]).status == 403)
        // A revoked token stops working at once.
        let tokens = try await h.call("GET", "/api/v1/orgs/\(org.id)/users/\(org.users[.viewer]!)/tokens")
        let tokenID = try #require(tokens["items"]?.arrayValue?.first?["id"]?.stringValue)
        #expect(try await h.call("DELETE", "/api/v1/orgs/\(org.id)/users/\(org.users[.viewer]!)/tokens/\(tokenID)").status == 204)
        #expect(try await h.call("GET", "/api/v1/me", token: org.tokens[.viewer]).status == 401)
    }

    @Test(arguments: TestBackend.allCases)
    func rolesAreEnforcedPerResourceAndTeam(_ backend: TestBackend) async throws {
        let h = try await APIHarness(backend)
        defer { Task { await h.stop() } }
        let org = try await h.makeOrg()
        let base = "/api/v1/orgs/\(org.id)"
        let provider: JSONValue = ["name": "mock", "kind": "openai-compatible", "base_url": "http://127.0.0.1:9/v1"]
        #expect(try await h.call("POST", "\(base)/providers", token: org.tokens[.viewer], body: provider).status == 403)
        #expect(try await h.call("POST", "\(base)/providers", token: org.tokens[.developer], body: provider).status == 403)
        #expect(try await h.call("POST", "\(base)/providers", token: org.tokens[.operator], body: provider).status == 201)
        #expect(try await h.call("POST", "\(base)/models", token: org.tokens[.operator], body: ["name": "gpt-4o-mini", "provider": "mock"]).status == 201)
        // Only admins manage users.
        let newUser: JSONValue = ["email": "x@acme.example", "role": "admin"]
        #expect(try await h.call("POST", "\(base)/users", token: org.tokens[.operator], body: newUser).status == 403)
        #expect(try await h.call("POST", "\(base)/users", token: org.tokens[.admin], body: newUser).status == 201)
        // Developers manage keys of their own team only, and see only those.
        let own = try await h.call("POST", "\(base)/api-keys", token: org.tokens[.developer], body: ["name": "dev-key", "team": "search"])
        #expect(own.status == 201, "\(own.text)")
        let foreign = try await h.call("POST", "\(base)/api-keys", token: org.tokens[.developer], body: ["name": "billing-key", "team": "billing"])
        #expect(foreign.status == 403)
        #expect(try await h.call("POST", "\(base)/api-keys", token: org.tokens[.developer], body: ["name": "no-team"]).status == 403)
        let billing = try await h.call("POST", "\(base)/api-keys", token: org.tokens[.operator], body: ["name": "billing-key", "team": "billing"])
        #expect(billing.status == 201)
        let listed = try await h.call("GET", "\(base)/api-keys", token: org.tokens[.developer])
        #expect(listed["items"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["dev-key"])
        let billingID = try #require(billing["id"]?.stringValue)
        #expect(try await h.call("GET", "\(base)/api-keys/\(billingID)", token: org.tokens[.developer]).status == 403)
        #expect(try await h.call("POST", "\(base)/api-keys/\(billingID)/revoke", token: org.tokens[.developer]).status == 403)
        #expect(try await h.call("DELETE", "\(base)/api-keys/\(billingID)", token: org.tokens[.viewer]).status == 403)
        #expect(try await h.call("GET", "\(base)/api-keys/\(billingID)", token: org.tokens[.viewer]).status == 200)
    }

    @Test(arguments: TestBackend.allCases)
    func apiKeySecretsAreShownOnceStoredHashedRotatedAndRevoked(_ backend: TestBackend) async throws {
        let h = try await APIHarness(backend)
        defer { Task { await h.stop() } }
        let org = try await h.makeOrg()
        let base = "/api/v1/orgs/\(org.id)"
        let created = try await h.call("POST", "\(base)/api-keys", body: ["name": "ci", "team": "search", "limits": ["requests_per_minute": 60]])
        #expect(created.status == 201, "\(created.text)")
        let secret = try #require(created["secret"]?.stringValue)
        #expect(secret.hasPrefix("tg_") && secret.count > 40)
        #expect(created["key_hash"] == nil)
        let id = try #require(created["id"]?.stringValue)
        let read = try await h.call("GET", "\(base)/api-keys/\(id)")
        #expect(read["secret"] == nil && read["key_hash"] == nil)
        #expect(read["key_prefix"]?.stringValue == String(secret.prefix(10)))
        #expect(read.headers["etag"] == "\"1\"")
        // Stored as the gateway's hash of the secret, nothing else.
        let stored = try await h.store.resource(kind: "api-key", id: id)
        #expect(stored.body["key_hash"]?.stringValue == APIKeyHash.hash(plaintext: secret))
        #expect(!stored.body.canonicalString().contains(secret))

        let rotated = try await h.call("POST", "\(base)/api-keys/\(id)/rotate")
        let newSecret = try #require(rotated["secret"]?.stringValue)
        #expect(newSecret != secret)
        #expect(try await h.store.resource(kind: "api-key", id: id).body["key_hash"]?.stringValue == APIKeyHash.hash(plaintext: newSecret))
        let revoked = try await h.call("POST", "\(base)/api-keys/\(id)/revoke")
        #expect(revoked["revoked_at"]?.intValue != nil)
        #expect(try await h.call("POST", "\(base)/api-keys/\(id)/rotate").status == 409)
    }

    @Test(arguments: TestBackend.allCases)
    func providerCredentialsAreSealedAndNeverReturned(_ backend: TestBackend) async throws {
        let h = try await APIHarness(backend)
        defer { Task { await h.stop() } }
        let org = try await h.makeOrg()
        let base = "/api/v1/orgs/\(org.id)"
        let created = try await h.call("POST", "\(base)/providers",
                                       body: ["name": "openai", "kind": "openai", "base_url": "https://api.openai.com/v1", "api_key": "sk-very-secret-1"])
        #expect(created.status == 201, "\(created.text)")
        #expect(!created.text.contains("sk-very-secret-1"))
        #expect(created["credential"] == ["type": "stored", "key_id": "k1"])
        let id = try #require(created["id"]?.stringValue)
        let stored = try await h.store.resource(kind: "provider", id: id)
        #expect(!stored.body.canonicalString().contains("sk-very-secret-1"))
        #expect(stored.body["credential"]?["sealed"]?.stringValue?.hasPrefix("v1:k1:") == true)
        // An update without a credential keeps the stored one; the audit log never has it.
        let updated = try await h.call("PUT", "\(base)/providers/\(id)", body: ["name": "openai", "kind": "openai", "base_url": "https://eu.api.openai.com/v1"],
                                       headers: ["If-Match": "\"1\""])
        #expect(updated.status == 200, "\(updated.text)")
        #expect(updated["credential"]?["type"] == "stored")
        #expect(try await h.call("PUT", "\(base)/providers/\(id)", body: ["name": "openai", "kind": "openai", "base_url": "https://x.example/v1"],
                                 headers: ["If-Match": "\"1\""]).status == 412)
        let audit = try await h.call("GET", "/api/v1/audit?org=\(org.id)&limit=1000")
        #expect(!audit.text.contains("sk-very-secret-1"))
        #expect(!audit.text.contains(stored.body["credential"]?["sealed"]?.stringValue ?? "-"))
    }

    @Test func storedCredentialsNeedAMasterKey() async throws {
        let h = try await APIHarness(.sqlite, secretBox: false)
        defer { Task { await h.stop() } }
        let org = try await h.makeOrg()
        let reply = try await h.call("POST", "/api/v1/orgs/\(org.id)/providers",
                                     body: ["name": "openai", "kind": "openai", "base_url": "https://api.openai.com/v1", "api_key": "sk-1"])
        #expect(reply.status == 422)
        #expect(reply["error"]?["field"] == "api_key")
    }

    @Test(arguments: TestBackend.allCases)
    func badInputGetsFieldPathsAndTheGatewayCompilerChecksTheRest(_ backend: TestBackend) async throws {
        let h = try await APIHarness(backend)
        defer { Task { await h.stop() } }
        let org = try await h.makeOrg()
        let base = "/api/v1/orgs/\(org.id)"
        let shape = try await h.call("POST", "\(base)/providers", body: ["name": "bad name!", "kind": "openia", "base_url": "ftp://x", "colour": "red"])
        #expect(shape.status == 422)
        #expect(shape.errorCode == "validation_failed")
        let paths = Set(shape["error"]?["issues"]?.arrayValue?.compactMap { $0["path"]?.stringValue } ?? [])
        #expect(paths == ["name", "kind", "base_url", "colour"])
        // A route naming an unknown provider: the gateway's own config compiler refuses it.
        let route = try await h.call("POST", "\(base)/routes", body: ["name": "chat", "priorities": [["backends": [["provider": "nope", "model": "m"]]]]])
        #expect(route.status == 422, "\(route.text)")
        #expect(route.errorCode == "invalid_config")
        #expect(route["error"]?["issues"]?.arrayValue?.first?["path"]?.stringValue?.hasPrefix("route/chat") == true, "\(route.text)")
        // Bad limits syntax, found by the same compiler.
        let team = try await h.call("POST", "\(base)/teams", body: ["name": "ops", "limits": ["requests_per_fortnight": 3]])
        #expect(team.status == 422, "\(team.text)")
        #expect(try await h.call("POST", "\(base)/teams", token: APIHarness.adminToken, body: nil).status == 400)
        let nested = try await h.call("POST", "\(base)/teams", raw: Data((String(repeating: "[", count: 100_000)).utf8))
        #expect(nested.status == 400)
        #expect(nested.errorCode == "invalid_request")
        let tooBig = try await h.call("POST", "\(base)/teams", raw: Data(repeating: UInt8(ascii: " "), count: 2 << 20))
        #expect(tooBig.status == 413)
        #expect(try await h.call("GET", "\(base)/widgets").status == 404)
        let missing = try await h.call("GET", "/api/v1/nothing/here")
        #expect(missing.status == 404)
        #expect(missing.errorCode == "not_found")
        // A provider still used by a model cannot be deleted.
        let provider = try await h.call("POST", "\(base)/providers", body: ["name": "mock", "kind": "openai-compatible", "base_url": "http://127.0.0.1:9/v1"])
        _ = try await h.call("POST", "\(base)/models", body: ["name": "m1", "provider": "mock"])
        let delete = try await h.call("DELETE", "\(base)/providers/\(provider["id"]!.stringValue!)")
        #expect(delete.status == 422, "\(delete.text)")
        #expect(delete.text.contains("model/m1"))
    }

    @Test(arguments: TestBackend.allCases)
    func dataplanesPollTheirConfigWithETagsAndHeartbeats(_ backend: TestBackend) async throws {
        let h = try await APIHarness(backend)
        defer { Task { await h.stop() } }
        let org = try await h.makeOrg()
        let base = "/api/v1/orgs/\(org.id)"
        _ = try await h.call("POST", "\(base)/providers", body: ["name": "mock", "kind": "openai-compatible", "base_url": "http://127.0.0.1:9/v1", "api_key": "sk-up-1"])
        _ = try await h.call("POST", "\(base)/models", body: ["name": "gpt-4o-mini", "provider": "mock"])
        _ = try await h.call("POST", "\(base)/models", body: ["name": "off", "provider": "mock", "enabled": false])
        let key = try await h.call("POST", "\(base)/api-keys", body: ["name": "app", "models": ["gpt-4o-mini"]])
        let dp = try await h.call("POST", "\(base)/dataplanes", body: ["name": "eu-1", "listeners": [["address": "127.0.0.1", "port": 18080]]])
        #expect(dp.status == 201, "\(dp.text)")
        let dpID = try #require(dp["id"]?.stringValue)
        let credential = try #require(dp["credential"]?.stringValue)
        #expect(dp["status"]?["reachable"] == false)

        #expect(try await h.call("GET", "/api/v1/dataplanes/\(dpID)/config", token: APIHarness.adminToken).status == 401)
        #expect(try await h.call("GET", "/api/v1/dataplanes/dp_unknown/config", token: credential).status == 401)
        let first = try await h.call("GET", "/api/v1/dataplanes/\(dpID)/config", token: credential, headers: ["X-Tollgate-Version": "9.9"])
        #expect(first.status == 200, "\(first.text)")
        let etag = try #require(first.headers["etag"])
        #expect(first["format"] == "tollgate-config-v1")
        // The answer compiles with the gateway's own loader into the config a file would give.
        let configText = try #require(first["config"]?.stringValue)
        var env: [String: String] = [:]
        for (k, v) in first["secrets"]?.objectValue ?? [:] { env[k] = v.stringValue }
        let config = try ConfigLoader.load(yaml: configText, source: "test", environment: env)
        #expect(config.listeners.map(\.port) == [18080])
        #expect(config.models.map(\.name) == ["gpt-4o-mini"])
        #expect(config.apiKeys.map(\.keyHash) == [APIKeyHash.hash(plaintext: key["secret"]!.stringValue!)])
        #expect(config.providers.first?.apiKey?.value == "sk-up-1")
        #expect(!configText.contains("sk-up-1"))

        let again = try await h.call("GET", "/api/v1/dataplanes/\(dpID)/config", token: credential, headers: ["If-None-Match": etag])
        #expect(again.status == 304)
        let status = try await h.call("GET", "\(base)/dataplanes/\(dpID)")
        #expect(status["status"]?["reachable"] == true)
        #expect(status["status"]?["polls"] == 2)
        #expect(status["status"]?["in_sync"] == true)
        #expect(status["status"]?["agent_version"] == .null)
        #expect(status["credential_hash"] == nil)

        // A revoked key disappears from the next answer; the ETag changes.
        _ = try await h.call("POST", "\(base)/api-keys/\(key["id"]!.stringValue!)/revoke")
        let afterRevoke = try await h.call("GET", "/api/v1/dataplanes/\(dpID)/config", token: credential,
                                           headers: ["If-None-Match": etag, "X-Tollgate-Config-Error": "providers[0]: broken"])
        #expect(afterRevoke.status == 200)
        #expect(afterRevoke.headers["etag"] != etag)
        #expect(try ConfigLoader.load(yaml: afterRevoke["config"]!.stringValue!, source: "t", environment: env).apiKeys.isEmpty)
        let reported = try await h.call("GET", "\(base)/dataplanes/\(dpID)")
        #expect(reported["status"]?["last_error"] == "providers[0]: broken")
        #expect(reported["status"]?["in_sync"] == false)

        // Silent for longer than the threshold: unreachable.
        h.clock.advance(31_000)
        #expect(try await h.call("GET", "\(base)/dataplanes/\(dpID)")["status"]?["reachable"] == false)
        // A rotated credential replaces the old one.
        let rotated = try await h.call("POST", "\(base)/dataplanes/\(dpID)/rotate-credential")
        let newCredential = try #require(rotated["credential"]?.stringValue)
        #expect(try await h.call("GET", "/api/v1/dataplanes/\(dpID)/config", token: credential).status == 401)
        #expect(try await h.call("GET", "/api/v1/dataplanes/\(dpID)/config", token: newCredential).status == 200)
    }

    @Test(arguments: TestBackend.allCases)
    func theAuditLogListsChangesWithActorAndVerifies(_ backend: TestBackend) async throws {
        let h = try await APIHarness(backend)
        defer { Task { await h.stop() } }
        let org = try await h.makeOrg()
        _ = try await h.call("POST", "/api/v1/orgs/\(org.id)/api-keys", token: org.tokens[.operator], body: ["name": "k"])
        let log = try await h.call("GET", "/api/v1/audit?org=\(org.id)&limit=1000", token: org.tokens[.admin])
        let items = try #require(log["items"]?.arrayValue)
        let last = try #require(items.last)
        #expect(last["action"] == "create")
        #expect(last["kind"] == "api-key")
        #expect(last["actor"]?.stringValue?.contains("operator@acme.example") == true)
        #expect(last["source_ip"] == "127.0.0.1")
        #expect(last["after"]?["body"]?["key_hash"] == "[REDACTED]")
        #expect(try await h.call("GET", "/api/v1/audit", token: org.tokens[.operator]).status == 403)
        let verify = try await h.call("GET", "/api/v1/audit/verify")
        #expect(verify["ok"] == true, "\(verify.text)")
        try await h.store.backend.transaction { conn in try await conn.query("UPDATE audit_log SET action = 'read' WHERE seq = 2") }
        let broken = try await h.call("GET", "/api/v1/audit/verify")
        #expect(broken["ok"] == false)
        #expect(broken["broken_at"] == 2)
    }
}

@Suite struct ConcurrentChangeTests {
    /// Deleting a provider while a model that uses it is created: each change is valid on its
    /// own, together they are not. The check runs inside each change's transaction with the
    /// org locked, so exactly one of the two commits, every round.
    @Test(arguments: TestBackend.allCases)
    func changesThatConflictOnlyTogetherNeverBothCommit(_ backend: TestBackend) async throws {
        let h = try await APIHarness(backend)
        defer { Task { await h.stop() } }
        let org = try await h.makeOrg()
        let base = "/api/v1/orgs/\(org.id)"
        for round in 0..<8 {
            let provider = try await h.call("POST", "\(base)/providers", body: ["name": .string("p\(round)"), "kind": "openai-compatible", "base_url": "http://127.0.0.1:9/v1"])
            let providerID = try #require(provider["id"]?.stringValue)
            async let deleted = h.call("DELETE", "\(base)/providers/\(providerID)")
            async let created = h.call("POST", "\(base)/models", body: ["name": .string("m\(round)"), "provider": .string("p\(round)")])
            let (d, c) = try await (deleted, created)
            #expect((d.status == 204) != (c.status == 201), "round \(round): delete \(d.status), create \(c.status)")
        }
    }
}
