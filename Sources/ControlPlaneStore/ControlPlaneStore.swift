import Foundation
import Logging

/// The management plane's repository: organisations, resources, access tokens, data-plane
/// heartbeats and the audit log, over any `StoreBackend`. Every write takes a `Change` and
/// appends its audit entry in the same transaction, so no change exists without its entry
/// and no entry without its change.
///
/// It owns the SQL; it does not validate resource bodies (the API layer does) and never sees
/// a plaintext secret (it stores hashes and sealed ciphertext, and redacts those in the log).
public final class ControlPlaneStore: Sendable {
    public let backend: any StoreBackend

    public init(backend: any StoreBackend) {
        self.backend = backend
    }

    /// Opens the database named by `--db`.
    public static func open(_ url: DatabaseURL, logger: Logger) async throws(StoreError) -> ControlPlaneStore {
        switch url {
        case .sqlite(let path):
            return ControlPlaneStore(backend: try await SQLiteBackend.open(path: path, logger: logger))
        case .postgres(let host, let port, let user, let password, let database):
            return ControlPlaneStore(backend: try await PostgresBackend.open(host: host, port: port, user: user, password: password,
                                                                             database: database, logger: logger))
        }
    }

    public func migrate(nowMs: Int64) async throws -> Migrator.Report {
        try await Migrator(backend: backend).migrate(now: nowMs)
    }

    public func close() async { await backend.close() }

    private var headLock: String { backend.dialect == .postgres ? " FOR UPDATE" : "" }

    // MARK: - Organisations

    public func createOrganization(id: String, name: String, body: JSONValue, change: Change) async throws -> Organization {
        let org = Organization(id: id, name: name, body: body, version: 1, createdMs: change.nowMs, updatedMs: change.nowMs)
        let lock = headLock
        try await backend.transaction { conn in
            try await conn.query("INSERT INTO organizations (id, name, body, version, created_ms, updated_ms) VALUES ($1, $2, $3, 1, $4, $4)",
                                 [.text(id), .text(name), .text(body.canonicalString()), .integer(change.nowMs)])
            try await Self.appendAudit(conn, lock: lock, change: change, action: "create", orgID: id, kind: "organization",
                                       resourceID: id, before: nil, after: Self.auditState(name: name, body: body))
        }
        return org
    }

    public func organization(id: String) async throws -> Organization {
        try await backend.transaction { conn in
            let rows = try await conn.query("SELECT * FROM organizations WHERE id = $1", [.text(id)])
            guard let row = rows.first else { throw StoreError.notFound("organization \(id)") }
            return try Self.organizationRow(row)
        }
    }

    public func organizations(limit: Int, after: String?) async throws -> Page<Organization> {
        try await backend.transaction { conn in
            let rows = try await conn.query("SELECT * FROM organizations WHERE name > $1 ORDER BY name LIMIT $2",
                                            [.text(after ?? ""), .integer(Int64(limit + 1))])
            var items = try rows.map(Self.organizationRow)
            var next: String?
            if items.count > limit {
                items.removeLast()
                next = items.last?.name
            }
            return Page(items: items, next: next)
        }
    }

    // MARK: - Resources

    /// Checks an org's resources as they would be after a change, inside the change's
    /// transaction (with the org locked), so two concurrent changes that are each fine but
    /// together invalid cannot both commit. Throwing rolls the change back.
    public typealias Check = @Sendable (_ after: [Resource]) throws -> Void

    public func create(kind: String, id: String, orgID: String, name: String, body: JSONValue, change: Change,
                       check: Check? = nil) async throws -> Resource {
        let resource = Resource(kind: kind, id: id, orgID: orgID, name: name, body: body, version: 1,
                                createdMs: change.nowMs, updatedMs: change.nowMs)
        let lock = headLock
        try await backend.transaction { conn in
            guard try await !conn.query("SELECT id FROM organizations WHERE id = $1" + lock, [.text(orgID)]).isEmpty else {
                throw StoreError.notFound("organization \(orgID)")
            }
            if let check { try check(try await Self.orgResources(conn, orgID) + [resource]) }
            do {
                try await conn.query("""
                    INSERT INTO resources (kind, id, org_id, name, body, version, created_ms, updated_ms)
                    VALUES ($1, $2, $3, $4, $5, 1, $6, $6)
                    """, [.text(kind), .text(id), .text(orgID), .text(name), .text(body.canonicalString()), .integer(change.nowMs)])
            } catch StoreError.conflict {
                throw StoreError.conflict("a \(kind) named \"\(name)\" already exists in this organization")
            }
            try await Self.appendAudit(conn, lock: lock, change: change, action: "create", orgID: orgID, kind: kind, resourceID: id,
                                       before: nil, after: Self.auditState(name: name, body: body))
        }
        return resource
    }

    public func resource(kind: String, id: String) async throws -> Resource {
        try await backend.transaction { conn in
            let rows = try await conn.query("SELECT * FROM resources WHERE kind = $1 AND id = $2", [.text(kind), .text(id)])
            guard let row = rows.first else { throw StoreError.notFound("\(kind) \(id)") }
            return try Self.resourceRow(row)
        }
    }

    /// Resources of one kind in an org, by name; `namePrefix` filters.
    public func resources(kind: String, orgID: String, limit: Int, after: String?, namePrefix: String? = nil) async throws -> Page<Resource> {
        try await backend.transaction { conn in
            var sql = "SELECT * FROM resources WHERE kind = $1 AND org_id = $2 AND name > $3"
            var binds: [SQLValue] = [.text(kind), .text(orgID), .text(after ?? "")]
            if let namePrefix, !namePrefix.isEmpty {
                // Range instead of LIKE: no wildcard escaping, and both backends use the index.
                sql += " AND name >= $4 AND name < $5"
                binds += [.text(namePrefix), .text(namePrefix + "\u{10FFFF}")]
            }
            sql += " ORDER BY name LIMIT $\(binds.count + 1)"
            binds.append(.integer(Int64(limit + 1)))
            var items = try await conn.query(sql, binds).map(Self.resourceRow)
            var next: String?
            if items.count > limit {
                items.removeLast()
                next = items.last?.name
            }
            return Page(items: items, next: next)
        }
    }

    /// Every resource of an org (for rendering its config), ordered by kind and name.
    public func allResources(orgID: String) async throws -> [Resource] {
        try await backend.transaction { conn in try await Self.orgResources(conn, orgID) }
    }

    static func orgResources(_ conn: any StoreConnection, _ orgID: String) async throws -> [Resource] {
        try await conn.query("SELECT * FROM resources WHERE org_id = $1 ORDER BY kind, name", [.text(orgID)]).map(Self.resourceRow)
    }

    /// Replaces a resource's name and body. `expectedVersion` (from `If-Match`) makes it a
    /// compare-and-swap; `action` names the change in the audit log (update, rotate, revoke…).
    public func update(kind: String, id: String, name: String, body: JSONValue, expectedVersion: Int64?, action: String = "update",
                       change: Change, check: Check? = nil) async throws -> Resource {
        let lock = headLock
        return try await backend.transaction { conn in
            let rows = try await conn.query("SELECT * FROM resources WHERE kind = $1 AND id = $2", [.text(kind), .text(id)])
            guard let row = rows.first else { throw StoreError.notFound("\(kind) \(id)") }
            var current = try Self.resourceRow(row)
            if let expectedVersion, expectedVersion != current.version {
                throw StoreError.versionMismatch(expected: expectedVersion, current: current.version)
            }
            let before = Self.auditState(name: current.name, body: current.body)
            if let check {
                try await conn.query("SELECT id FROM organizations WHERE id = $1" + lock, [.text(current.orgID)])
                var after = current
                after.name = name
                after.body = body
                try check(try await Self.orgResources(conn, current.orgID).map { $0.kind == kind && $0.id == id ? after : $0 })
            }
            do {
                try await conn.query("""
                    UPDATE resources SET name = $1, body = $2, version = version + 1, updated_ms = $3
                    WHERE kind = $4 AND id = $5 AND version = $6
                    """, [.text(name), .text(body.canonicalString()), .integer(change.nowMs), .text(kind), .text(id), .integer(current.version)])
            } catch StoreError.conflict {
                throw StoreError.conflict("a \(kind) named \"\(name)\" already exists in this organization")
            }
            current.name = name
            current.body = body
            current.version += 1
            current.updatedMs = change.nowMs
            try await Self.appendAudit(conn, lock: lock, change: change, action: action, orgID: current.orgID, kind: kind, resourceID: id,
                                       before: before, after: Self.auditState(name: name, body: body))
            return current
        }
    }

    public func delete(kind: String, id: String, expectedVersion: Int64?, change: Change, check: Check? = nil) async throws {
        let lock = headLock
        try await backend.transaction { conn in
            let rows = try await conn.query("SELECT * FROM resources WHERE kind = $1 AND id = $2", [.text(kind), .text(id)])
            guard let row = rows.first else { throw StoreError.notFound("\(kind) \(id)") }
            let current = try Self.resourceRow(row)
            if let expectedVersion, expectedVersion != current.version {
                throw StoreError.versionMismatch(expected: expectedVersion, current: current.version)
            }
            if let check {
                try await conn.query("SELECT id FROM organizations WHERE id = $1" + lock, [.text(current.orgID)])
                try check(try await Self.orgResources(conn, current.orgID).filter { !($0.kind == kind && $0.id == id) })
            }
            try await conn.query("DELETE FROM resources WHERE kind = $1 AND id = $2", [.text(kind), .text(id)])
            if kind == "user" { try await conn.query("DELETE FROM access_tokens WHERE user_id = $1", [.text(id)]) }
            if kind == "dataplane" { try await conn.query("DELETE FROM dataplane_status WHERE dataplane_id = $1", [.text(id)]) }
            try await Self.appendAudit(conn, lock: lock, change: change, action: "delete", orgID: current.orgID, kind: kind, resourceID: id,
                                       before: Self.auditState(name: current.name, body: current.body), after: nil)
        }
    }

    // MARK: - Access tokens

    public func createToken(_ token: AccessToken, change: Change) async throws {
        let lock = headLock
        try await backend.transaction { conn in
            try await conn.query("""
                INSERT INTO access_tokens (id, token_hash, user_id, org_id, name, created_ms, expires_ms, revoked_ms)
                VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)
                """, [.text(token.id), .text(token.tokenHash), .text(token.userID), .text(token.orgID), .text(token.name),
                      .integer(token.createdMs), SQLValue(token.expiresMs)])
            try await Self.appendAudit(conn, lock: lock, change: change, action: "create", orgID: token.orgID, kind: "access-token",
                                       resourceID: token.id, before: nil,
                                       after: Self.auditState(name: token.name, body: .object(["user_id": .string(token.userID),
                                                                                                "expires_ms": token.expiresMs.map(JSONValue.integer) ?? .null])))
        }
    }

    public func token(hash: String) async throws -> AccessToken? {
        try await backend.transaction { conn in
            try await conn.query("SELECT * FROM access_tokens WHERE token_hash = $1", [.text(hash)]).first.map(Self.tokenRow)
        }
    }

    public func tokens(userID: String) async throws -> [AccessToken] {
        try await backend.transaction { conn in
            try await conn.query("SELECT * FROM access_tokens WHERE user_id = $1 ORDER BY created_ms, id", [.text(userID)]).map(Self.tokenRow)
        }
    }

    public func revokeToken(id: String, change: Change) async throws {
        let lock = headLock
        try await backend.transaction { conn in
            guard let row = try await conn.query("SELECT * FROM access_tokens WHERE id = $1", [.text(id)]).first else {
                throw StoreError.notFound("access token \(id)")
            }
            let token = try Self.tokenRow(row)
            guard token.revokedMs == nil else { return }
            try await conn.query("UPDATE access_tokens SET revoked_ms = $1 WHERE id = $2", [.integer(change.nowMs), .text(id)])
            try await Self.appendAudit(conn, lock: lock, change: change, action: "revoke", orgID: token.orgID, kind: "access-token",
                                       resourceID: id, before: nil, after: nil)
        }
    }

    // MARK: - Data-plane heartbeats

    /// Records one poll: not an administrative change, so not audited (it would flood the log).
    public func recordPoll(_ status: DataPlaneStatus) async throws {
        _ = try await backend.transaction { conn in
            try await conn.query("""
                INSERT INTO dataplane_status (dataplane_id, last_seen_ms, polls, served_etag, applied_etag, agent_version, last_error, poll_interval_ms)
                VALUES ($1, $2, 1, $3, $4, $5, $6, $7)
                ON CONFLICT (dataplane_id) DO UPDATE SET last_seen_ms = $2, polls = dataplane_status.polls + 1,
                    served_etag = $3, applied_etag = $4, agent_version = $5, last_error = $6, poll_interval_ms = $7
                """, [.text(status.dataplaneID), .integer(status.lastSeenMs), SQLValue(status.servedETag), SQLValue(status.appliedETag),
                      SQLValue(status.agentVersion), SQLValue(status.lastError), SQLValue(status.pollIntervalMs)])
        }
    }

    public func status(dataplaneID: String) async throws -> DataPlaneStatus? {
        try await backend.transaction { conn in
            guard let row = try await conn.query("SELECT * FROM dataplane_status WHERE dataplane_id = $1", [.text(dataplaneID)]).first else {
                return nil
            }
            return DataPlaneStatus(dataplaneID: try row.text("dataplane_id"), lastSeenMs: try row.int("last_seen_ms"), polls: try row.int("polls"),
                                   servedETag: row.optionalText("served_etag"), appliedETag: row.optionalText("applied_etag"),
                                   agentVersion: row.optionalText("agent_version"), lastError: row.optionalText("last_error"),
                                   pollIntervalMs: row.optionalInt("poll_interval_ms"))
        }
    }

    // MARK: - Audit log

    /// Entries after `afterSeq`, oldest first; `orgID` filters.
    public func auditEntries(orgID: String?, afterSeq: Int64, limit: Int) async throws -> [AuditEntry] {
        try await backend.transaction { conn in
            if let orgID {
                return try await conn.query("SELECT * FROM audit_log WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                                            [.text(orgID), .integer(afterSeq), .integer(Int64(limit))]).map(Self.auditRow)
            }
            return try await conn.query("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                                        [.integer(afterSeq), .integer(Int64(limit))]).map(Self.auditRow)
        }
    }

    /// Checks the whole chain, in pages, against the head.
    public func verifyAudit() async throws -> AuditChain.Verification {
        var verifier = AuditChain.Verifier()
        var after: Int64 = 0
        while true {
            let from = after
            let page = try await backend.transaction { conn in
                try await conn.query("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000", [.integer(from)]).map(Self.auditRow)
            }
            for entry in page { verifier.feed(entry) }
            guard let last = page.last, page.count == 1000, verifier.failure == nil else { break }
            after = last.seq
        }
        let head = try await backend.transaction { conn in
            try await conn.query("SELECT seq, hash FROM audit_head WHERE id = 1").first
        }
        guard let head else { throw StoreError.corrupt("audit_head row is missing") }
        return verifier.finish(headSeq: try head.int("seq"), headHash: try head.text("hash"))
    }

    static func appendAudit(_ conn: any StoreConnection, lock: String, change: Change, action: String, orgID: String, kind: String,
                            resourceID: String, before: JSONValue?, after: JSONValue?) async throws(StoreError) {
        guard let head = try await conn.query("SELECT seq, hash FROM audit_head WHERE id = 1" + lock).first else {
            throw .corrupt("audit_head row is missing")
        }
        var entry = AuditEntry(seq: try head.int("seq") + 1, occurredMs: change.nowMs, actor: change.actor.actor, sourceIP: change.actor.sourceIP,
                               action: action, orgID: orgID, kind: kind, resourceID: resourceID,
                               before: before.map { AuditChain.redact($0).canonicalString() },
                               after: after.map { AuditChain.redact($0).canonicalString() },
                               prevHash: try head.text("hash"), hash: "")
        entry.hash = AuditChain.hash(of: entry)
        try await conn.query("""
            INSERT INTO audit_log (seq, occurred_ms, actor, source_ip, action, org_id, kind, resource_id, before_state, after_state, prev_hash, hash)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            """, [.integer(entry.seq), .integer(entry.occurredMs), .text(entry.actor), .text(entry.sourceIP), .text(entry.action),
                  .text(entry.orgID), .text(entry.kind), .text(entry.resourceID), SQLValue(entry.before), SQLValue(entry.after),
                  .text(entry.prevHash), .text(entry.hash)])
        try await conn.query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", [.integer(entry.seq), .text(entry.hash)])
    }

    static func auditState(name: String, body: JSONValue) -> JSONValue {
        .object(["name": .string(name), "body": body])
    }

    // MARK: - Row mapping

    static func body(_ row: SQLRow) throws -> JSONValue {
        let text = try row.text("body")
        guard let value = JSONValue.parse(text) else { throw StoreError.corrupt("body is not JSON") }
        return value
    }

    static func organizationRow(_ row: SQLRow) throws -> Organization {
        Organization(id: try row.text("id"), name: try row.text("name"), body: try body(row), version: try row.int("version"),
                     createdMs: try row.int("created_ms"), updatedMs: try row.int("updated_ms"))
    }

    static func resourceRow(_ row: SQLRow) throws -> Resource {
        Resource(kind: try row.text("kind"), id: try row.text("id"), orgID: try row.text("org_id"), name: try row.text("name"),
                 body: try body(row), version: try row.int("version"), createdMs: try row.int("created_ms"), updatedMs: try row.int("updated_ms"))
    }

    static func tokenRow(_ row: SQLRow) throws -> AccessToken {
        AccessToken(id: try row.text("id"), tokenHash: try row.text("token_hash"), userID: try row.text("user_id"), orgID: try row.text("org_id"),
                    name: try row.text("name"), createdMs: try row.int("created_ms"), expiresMs: row.optionalInt("expires_ms"),
                    revokedMs: row.optionalInt("revoked_ms"))
    }

    static func auditRow(_ row: SQLRow) throws -> AuditEntry {
        AuditEntry(seq: try row.int("seq"), occurredMs: try row.int("occurred_ms"), actor: try row.text("actor"), sourceIP: try row.text("source_ip"),
                   action: try row.text("action"), orgID: try row.text("org_id"), kind: try row.text("kind"), resourceID: try row.text("resource_id"),
                   before: row.optionalText("before_state"), after: row.optionalText("after_state"), prevHash: try row.text("prev_hash"),
                   hash: try row.text("hash"))
    }
}
