/// One forward-only schema step. Versions are dense (1, 2, 3…); a released migration is never
/// edited, a change is a new one. Statements are portable SQL (BIGINT and TEXT only) unless
/// the dialect needs its own.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let statements: @Sendable (SQLDialect) -> [String]
}

/// Every migration this binary knows, in order.
public enum Migrations {
    public static let all: [Migration] = [
        Migration(version: 1, name: "initial schema") { _ in
            [
                """
                CREATE TABLE organizations (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, body TEXT NOT NULL, version BIGINT NOT NULL,
                    created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL)
                """,
                // Teams, users, keys, providers, models, routes, policies, data planes: one table,
                // the typed document in `body` (validated by the API layer), the name unique per
                // org and kind, `version` for ETag/If-Match.
                """
                CREATE TABLE resources (
                    kind TEXT NOT NULL, id TEXT NOT NULL, org_id TEXT NOT NULL REFERENCES organizations(id),
                    name TEXT NOT NULL, body TEXT NOT NULL, version BIGINT NOT NULL,
                    created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL,
                    PRIMARY KEY (kind, id), UNIQUE (org_id, kind, name))
                """,
                """
                CREATE TABLE access_tokens (
                    id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL,
                    org_id TEXT NOT NULL REFERENCES organizations(id), name TEXT NOT NULL,
                    created_ms BIGINT NOT NULL, expires_ms BIGINT, revoked_ms BIGINT)
                """,
                "CREATE INDEX access_tokens_user ON access_tokens (user_id)",
                """
                CREATE TABLE dataplane_status (
                    dataplane_id TEXT PRIMARY KEY, last_seen_ms BIGINT NOT NULL, polls BIGINT NOT NULL,
                    served_etag TEXT, applied_etag TEXT, agent_version TEXT, last_error TEXT)
                """,
                // The chain's head: one row, locked by every append, so replicas append in turn
                // and a truncated tail is detectable (the head names the last entry).
                "CREATE TABLE audit_head (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL)",
                "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '\(AuditChain.genesis)')",
                """
                CREATE TABLE audit_log (
                    seq BIGINT PRIMARY KEY, occurred_ms BIGINT NOT NULL, actor TEXT NOT NULL, source_ip TEXT NOT NULL,
                    action TEXT NOT NULL, org_id TEXT NOT NULL, kind TEXT NOT NULL, resource_id TEXT NOT NULL,
                    before_state TEXT, after_state TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)
                """,
                "CREATE INDEX audit_log_org ON audit_log (org_id, seq)",
            ]
        },
        Migration(version: 2, name: "usage aggregates") { _ in
            [
                // One row per series of one data plane's usage table: cumulative counts,
                // replaced only by larger ones (see `ControlPlaneStore.recordUsage`).
                """
                CREATE TABLE usage_series (
                    dataplane_id TEXT NOT NULL, source TEXT NOT NULL, slot BIGINT NOT NULL, interval_start BIGINT NOT NULL,
                    key_name TEXT NOT NULL, model TEXT NOT NULL, org_id TEXT NOT NULL, team TEXT NOT NULL, interval_seconds BIGINT NOT NULL,
                    requests BIGINT NOT NULL, input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, cost_nano_usd BIGINT NOT NULL,
                    latency_ms_sum BIGINT NOT NULL,
                    latency_b0 BIGINT NOT NULL, latency_b1 BIGINT NOT NULL, latency_b2 BIGINT NOT NULL, latency_b3 BIGINT NOT NULL,
                    latency_b4 BIGINT NOT NULL, latency_b5 BIGINT NOT NULL, latency_b6 BIGINT NOT NULL, latency_b7 BIGINT NOT NULL,
                    latency_b8 BIGINT NOT NULL, latency_b9 BIGINT NOT NULL, latency_b10 BIGINT NOT NULL, latency_b11 BIGINT NOT NULL,
                    errors_client BIGINT NOT NULL, errors_auth BIGINT NOT NULL, errors_rate_limited BIGINT NOT NULL, errors_upstream BIGINT NOT NULL,
                    guardrail_blocks BIGINT NOT NULL, updated_ms BIGINT NOT NULL,
                    PRIMARY KEY (dataplane_id, source, slot, interval_start, key_name, model))
                """,
                "CREATE INDEX usage_series_org ON usage_series (org_id, interval_start)",
                // Batch ids already applied: a repeated batch is acknowledged and ignored.
                """
                CREATE TABLE usage_batches (
                    dataplane_id TEXT NOT NULL, batch_id TEXT NOT NULL, rows BIGINT NOT NULL, received_ms BIGINT NOT NULL,
                    PRIMARY KEY (dataplane_id, batch_id))
                """,
            ]
        },
        Migration(version: 3, name: "data-plane poll interval") { _ in
            // What the data plane says it polls at: missed polls are counted against it.
            ["ALTER TABLE dataplane_status ADD COLUMN poll_interval_ms BIGINT"]
        },
    ]

    public static var latest: Int { all.last?.version ?? 0 }
}

/// Applies pending migrations, each in its own transaction, and refuses a database whose
/// schema is newer than this binary. On PostgreSQL an advisory lock makes replicas that start
/// together apply each step once; on SQLite `BEGIN IMMEDIATE` does the same.
public struct Migrator: Sendable {
    public struct Report: Sendable, Equatable {
        public var applied: [Int]
        public var current: Int
    }

    let backend: any StoreBackend
    let migrations: [Migration]

    public init(backend: any StoreBackend, migrations: [Migration] = Migrations.all) {
        self.backend = backend
        self.migrations = migrations
    }

    /// The schema version recorded in the database (0 for an empty one).
    public func currentVersion() async throws -> Int {
        try await backend.transaction { conn in
            try await Self.ensureTable(conn)
            return try await Self.version(conn)
        }
    }

    public func migrate(now: Int64) async throws -> Report {
        var applied: [Int] = []
        let known = migrations.last?.version ?? 0
        let dialect = backend.dialect
        for migration in migrations {
            let ran = try await backend.transaction { conn -> Bool in
                if dialect == .postgres { try await conn.query("SELECT pg_advisory_xact_lock(746567001)") }
                try await Self.ensureTable(conn)
                let current = try await Self.version(conn)
                if current > known { throw StoreError.schemaTooNew(database: current, binary: known) }
                guard current < migration.version else { return false }
                guard current == migration.version - 1 else {
                    throw StoreError.corrupt("schema is at version \(current), cannot apply migration \(migration.version)")
                }
                for statement in migration.statements(dialect) {
                    try await conn.query(statement)
                }
                try await conn.query("INSERT INTO schema_migrations (version, name, applied_ms) VALUES ($1, $2, $3)",
                                     [.integer(Int64(migration.version)), .text(migration.name), .integer(now)])
                return true
            }
            if ran { applied.append(migration.version) }
        }
        let current = try await currentVersion()
        if current > known { throw StoreError.schemaTooNew(database: current, binary: known) }
        return Report(applied: applied, current: current)
    }

    static func ensureTable(_ conn: any StoreConnection) async throws(StoreError) {
        try await conn.query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)")
    }

    static func version(_ conn: any StoreConnection) async throws(StoreError) -> Int {
        let rows = try await conn.query("SELECT MAX(version) AS v FROM schema_migrations")
        return Int(rows.first?.optionalInt("v") ?? 0)
    }
}
