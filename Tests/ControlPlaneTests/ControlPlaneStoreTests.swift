import ControlPlaneStore
import Foundation
import Logging
import Testing
import TollgateTesting

@Suite struct ControlPlaneStoreTests {
    @Test(arguments: TestBackend.allCases)
    func migrationsApplyOnceAndRecordTheVersion(_ backend: TestBackend) async throws {
        let (url, dir) = try backend.databaseURL()
        let store = try await ControlPlaneStore.open(try DatabaseURL.parse(url), logger: Logger(label: "test"))
        let first = try await store.migrate(nowMs: 1)
        #expect(first.applied == Migrations.all.map(\.version))
        #expect(first.current == Migrations.latest)
        let second = try await store.migrate(nowMs: 2)
        #expect(second.applied.isEmpty)
        #expect(second.current == Migrations.latest)
        await store.close()
        withExtendedLifetime(dir) {}
    }

    @Test(arguments: TestBackend.allCases)
    func aSchemaNewerThanTheBinaryIsRefused(_ backend: TestBackend) async throws {
        let (store, dir) = try await backend.makeStore()
        try await store.backend.transaction { conn in
            try await conn.query("INSERT INTO schema_migrations (version, name, applied_ms) VALUES ($1, 'from the future', 0)",
                                 [.integer(Int64(Migrations.latest + 1))])
        }
        await #expect(throws: StoreError.schemaTooNew(database: Migrations.latest + 1, binary: Migrations.latest)) {
            try await store.migrate(nowMs: 3)
        }
        await store.close()
        withExtendedLifetime(dir) {}
    }

    @Test(arguments: TestBackend.allCases)
    func resourcesAreScopedNamedAndVersioned(_ backend: TestBackend) async throws {
        let (store, dir) = try await backend.makeStore()
        defer { withExtendedLifetime(dir) {} }
        let org = try await store.createOrganization(id: "org_a", name: "acme", body: .object([:]), change: testChange)
        _ = try await store.createOrganization(id: "org_b", name: "globex", body: .object([:]), change: testChange)
        await #expect(throws: StoreError.self) {
            try await store.createOrganization(id: "org_c", name: "acme", body: .object([:]), change: testChange)
        }
        let created = try await store.create(kind: "team", id: "team_1", orgID: org.id, name: "search", body: .object(["description": .string("d")]), change: testChange)
        #expect(created.version == 1)
        // Same name in another org or another kind is fine; in the same org and kind it is not.
        _ = try await store.create(kind: "team", id: "team_2", orgID: "org_b", name: "search", body: .object([:]), change: testChange)
        _ = try await store.create(kind: "route", id: "rte_1", orgID: org.id, name: "search", body: .object([:]), change: testChange)
        do {
            _ = try await store.create(kind: "team", id: "team_3", orgID: org.id, name: "search", body: .object([:]), change: testChange)
            Issue.record("a duplicate name was accepted")
        } catch StoreError.conflict(let message) {
            #expect(message.contains("search"))
        }
        await #expect(throws: StoreError.notFound("organization org_nope")) {
            try await store.create(kind: "team", id: "team_4", orgID: "org_nope", name: "x", body: .object([:]), change: testChange)
        }

        let updated = try await store.update(kind: "team", id: "team_1", name: "search-eu", body: .object(["limits": .object(["requests_per_minute": .integer(10)])]),
                                             expectedVersion: 1, change: testChange)
        #expect(updated.version == 2)
        #expect(try await store.resource(kind: "team", id: "team_1").body["limits"]?["requests_per_minute"] == .integer(10))
        await #expect(throws: StoreError.versionMismatch(expected: 1, current: 2)) {
            try await store.update(kind: "team", id: "team_1", name: "x", body: .object([:]), expectedVersion: 1, change: testChange)
        }
        await #expect(throws: StoreError.versionMismatch(expected: 1, current: 2)) {
            try await store.delete(kind: "team", id: "team_1", expectedVersion: 1, change: testChange)
        }
        try await store.delete(kind: "team", id: "team_1", expectedVersion: 2, change: testChange)
        await #expect(throws: StoreError.notFound("team team_1")) { try await store.resource(kind: "team", id: "team_1") }
    }

    @Test(arguments: TestBackend.allCases)
    func listingsPageByNameAndFilterByPrefix(_ backend: TestBackend) async throws {
        let (store, dir) = try await backend.makeStore()
        defer { withExtendedLifetime(dir) {} }
        _ = try await store.createOrganization(id: "org_a", name: "acme", body: .object([:]), change: testChange)
        for name in ["m-05", "m-01", "m-03", "x-02", "m-04", "m-02"] {
            _ = try await store.create(kind: "model", id: "mdl_\(name)", orgID: "org_a", name: name, body: .object([:]), change: testChange)
        }
        let first = try await store.resources(kind: "model", orgID: "org_a", limit: 4, after: nil)
        #expect(first.items.map(\.name) == ["m-01", "m-02", "m-03", "m-04"])
        #expect(first.next == "m-04")
        let second = try await store.resources(kind: "model", orgID: "org_a", limit: 4, after: first.next)
        #expect(second.items.map(\.name) == ["m-05", "x-02"])
        #expect(second.next == nil)
        let filtered = try await store.resources(kind: "model", orgID: "org_a", limit: 10, after: nil, namePrefix: "x-")
        #expect(filtered.items.map(\.name) == ["x-02"])
        #expect(try await store.allResources(orgID: "org_a").count == 6)
    }

    @Test(arguments: TestBackend.allCases)
    func tokensAreFoundByHashAndRevoked(_ backend: TestBackend) async throws {
        let (store, dir) = try await backend.makeStore()
        defer { withExtendedLifetime(dir) {} }
        _ = try await store.createOrganization(id: "org_a", name: "acme", body: .object([:]), change: testChange)
        let token = AccessToken(id: "pat_1", tokenHash: "sha256:abc", userID: "usr_1", orgID: "org_a", name: "ci", createdMs: 1, expiresMs: 99, revokedMs: nil)
        try await store.createToken(token, change: testChange)
        #expect(try await store.token(hash: "sha256:abc") == token)
        #expect(try await store.token(hash: "sha256:abd") == nil)
        try await store.revokeToken(id: "pat_1", change: testChange)
        #expect(try await store.token(hash: "sha256:abc")?.revokedMs == testChange.nowMs)
    }

    @Test(arguments: TestBackend.allCases)
    func pollsUpsertTheHeartbeat(_ backend: TestBackend) async throws {
        let (store, dir) = try await backend.makeStore()
        defer { withExtendedLifetime(dir) {} }
        try await store.recordPoll(DataPlaneStatus(dataplaneID: "dp_1", lastSeenMs: 10, polls: 0, servedETag: "\"a\"", appliedETag: nil, agentVersion: "1", lastError: nil))
        try await store.recordPoll(DataPlaneStatus(dataplaneID: "dp_1", lastSeenMs: 20, polls: 0, servedETag: "\"b\"", appliedETag: "\"a\"", agentVersion: "1", lastError: "bad"))
        let status = try #require(try await store.status(dataplaneID: "dp_1"))
        #expect(status.polls == 2)
        #expect(status.lastSeenMs == 20)
        #expect(status.servedETag == "\"b\"")
        #expect(status.appliedETag == "\"a\"")
        #expect(status.lastError == "bad")
        #expect(try await store.status(dataplaneID: "dp_2") == nil)
    }
}

@Suite struct JSONValueTests {
    @Test func hostileNestingIsRefusedBeforeDecoding() {
        #expect(JSONValue.parse(String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)) == nil)
        #expect(JSONValue.parse(String(repeating: "{\"a\":", count: 65) + "1" + String(repeating: "}", count: 65)) == nil)
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(JSONValue.parse(ok) != nil)
        // Brackets inside strings (and escaped quotes) do not count.
        #expect(JSONValue.parse("[\"" + String(repeating: "[", count: 500) + "\\\"\"]") == .array([.string(String(repeating: "[", count: 500) + "\"")]))
    }

    @Test func canonicalFormSortsKeysAndRoundTrips() {
        let value: JSONValue = ["b": 1, "a": ["x", true, .null], "c": ["z": .number(2.5)]]
        #expect(value.canonicalString() == #"{"a":["x",true,null],"b":1,"c":{"z":2.5}}"#)
        #expect(JSONValue.parse(value.canonicalString()) == value)
    }
}
