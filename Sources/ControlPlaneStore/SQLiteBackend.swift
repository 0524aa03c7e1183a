import Logging
import NIOCore
import NIOPosix
import SQLiteNIO
import Synchronization

/// The embedded store: one SQLite file in WAL mode (readers never block the writer, a crash
/// never leaves a half-written transaction), `synchronous=FULL` because the audit log must
/// survive power loss, foreign keys on. One connection, transactions serialized by
/// `AsyncMutex` — SQLite allows one writer anyway, and a control plane's write rate is tiny.
public final class SQLiteBackend: StoreBackend {
    public let dialect = SQLDialect.sqlite
    private let connection: SQLiteConnection
    private let lock = AsyncMutex()

    private init(connection: SQLiteConnection) {
        self.connection = connection
    }

    /// Opens (creating if missing) the database file.
    public static func open(path: String, logger: Logger) async throws(StoreError) -> SQLiteBackend {
        do {
            let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            let backend = SQLiteBackend(connection: connection)
            // WAL is a property of the file; the others of the connection.
            for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=5000"] {
                _ = try await connection.query(pragma, [])
            }
            return backend
        } catch let error as StoreError {
            throw error
        } catch {
            throw .backend("cannot open SQLite database \(path): \(error)")
        }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any StoreConnection) async throws -> T) async throws -> T {
        try await lock.withLock {
            let conn = Connection(connection: connection)
            // IMMEDIATE takes the write lock up front, so another process on the same file
            // (`tollgate control-plane migrate` next to a running server) waits instead of
            // failing halfway through with SQLITE_BUSY.
            try await conn.query("BEGIN IMMEDIATE")
            do {
                let result = try await body(conn)
                try await conn.query("COMMIT")
                return result
            } catch {
                _ = try? await conn.query("ROLLBACK")
                throw error
            }
        }
    }

    public func close() async {
        try? await connection.close()
    }

    /// A backend dropped without `close()` (an error path) still closes its connection: the
    /// close runs on the thread pool, which keeps the connection alive until it has.
    deinit {
        if !connection.isClosed { _ = connection.close() as EventLoopFuture<Void> }
    }

    struct Connection: StoreConnection {
        let connection: SQLiteConnection

        func query(_ sql: String, _ binds: [SQLValue]) async throws(StoreError) -> [SQLRow] {
            let data: [SQLiteData] = binds.map {
                switch $0 {
                case .null: return .null
                case .integer(let i): return .integer(SQLiteInt64(i))
                case .text(let s): return .text(s)
                }
            }
            do {
                let rows = try await connection.query(Self.renumber(sql), data)
                return rows.map { row in
                    SQLRow(columns: row.columns.map(\.name), values: row.columns.map { column in
                        switch column.data {
                        case .integer(let i): return .integer(Int64(i))
                        case .text(let s): return .text(s)
                        case .float(let d): return Int64(exactly: d).map(SQLValue.integer) ?? .text(String(d))
                        case .blob(let b): return .text(String(buffer: b))
                        case .null: return .null
                        }
                    })
                }
            } catch let error as SQLiteError {
                switch error.reason {
                case .constraint, .constraintUniqueFailed, .constraintPrimaryKeyFailed:
                    throw .conflict(error.message)
                default:
                    throw .backend("\(error)")
                }
            } catch {
                throw .backend("\(error)")
            }
        }

        /// `$12` → `?12`: SQLite's numbered parameter form, so one statement text serves both.
        static func renumber(_ sql: String) -> String {
            var out = ""
            out.reserveCapacity(sql.utf8.count)
            var previousWasDollar = false
            for ch in sql {
                if previousWasDollar {
                    previousWasDollar = false
                    out.append(ch.isNumber ? "?" : "$")
                }
                if ch == "$" {
                    previousWasDollar = true
                    continue
                }
                out.append(ch)
            }
            if previousWasDollar { out.append("$") }
            return out
        }
    }
}
