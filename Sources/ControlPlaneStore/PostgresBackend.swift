import Logging
import NIOCore
import PostgresNIO

/// The store for more than one machine: a PostgreSQL connection pool (postgres-nio's
/// `PostgresClient`), so several control-plane replicas share one database. Writes that
/// must be serialized across replicas (the audit chain's head, migrations) take row or
/// advisory locks inside their transaction; see `ControlPlaneStore` and `Migrator`.
public final class PostgresBackend: StoreBackend {
    public let dialect = SQLDialect.postgres
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger

    private init(client: PostgresClient, runner: Task<Void, Never>, logger: Logger) {
        self.client = client
        self.runner = runner
        self.logger = logger
    }

    /// Starts the pool and checks that the server answers; TLS is used when the server
    /// offers it (`prefer`), which a loopback or private-network server may not.
    public static func open(host: String, port: Int, user: String, password: String?, database: String,
                            maximumConnections: Int = 10, logger: Logger) async throws(StoreError) -> PostgresBackend {
        var configuration = PostgresClient.Configuration(host: host, port: port, username: user, password: password,
                                                         database: database, tls: .disable)
        configuration.options.maximumConnections = max(1, maximumConnections)
        configuration.options.connectTimeout = .seconds(5)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let runner = Task { await client.run() }
        let backend = PostgresBackend(client: client, runner: runner, logger: logger)
        do {
            _ = try await backend.transaction { conn in try await conn.query("SELECT 1 AS ok") }
        } catch {
            await backend.close()
            throw (error as? StoreError) ?? .backend("\(error)")
        }
        return backend
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any StoreConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withConnection { connection in
                let conn = Connection(connection: connection, logger: logger)
                try await conn.query("BEGIN")
                do {
                    let result = try await body(conn)
                    try await conn.query("COMMIT")
                    return result
                } catch {
                    _ = try? await conn.query("ROLLBACK")
                    throw error
                }
            }
        } catch let error as StoreError {
            throw error
        } catch let error as PSQLError {
            throw Connection.map(error)
        }
    }

    public func close() async {
        runner.cancel()
        _ = await runner.value
    }

    struct Connection: StoreConnection, @unchecked Sendable {
        // Used only inside the `withConnection` closure that lent it.
        let connection: PostgresConnection
        let logger: Logger

        func query(_ sql: String, _ binds: [SQLValue]) async throws(StoreError) -> [SQLRow] {
            var bindings = PostgresBindings(capacity: binds.count)
            for value in binds {
                switch value {
                case .null: bindings.appendNull()
                case .integer(let i): bindings.append(i)
                case .text(let s): bindings.append(s)
                }
            }
            do {
                let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
                var out: [SQLRow] = []
                for try await row in rows {
                    var columns: [String] = []
                    var values: [SQLValue] = []
                    for cell in row {
                        columns.append(cell.columnName)
                        values.append(try Self.value(cell))
                    }
                    out.append(SQLRow(columns: columns, values: values))
                }
                return out
            } catch let error as PSQLError {
                throw Self.map(error)
            } catch let error as StoreError {
                throw error
            } catch {
                throw .backend("\(error)")
            }
        }

        static func value(_ cell: PostgresCell) throws -> SQLValue {
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
            case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
            default: return .text(try cell.decode(String.self))
            }
        }

        static func map(_ error: PSQLError) -> StoreError {
            if let state = error.serverInfo?[.sqlState], state == "23505" || state == "23503" {
                return .conflict(error.serverInfo?[.message] ?? "constraint violated")
            }
            if let message = error.serverInfo?[.message] { return .backend(message) }
            return .backend("\(error.code)")
        }
    }
}
