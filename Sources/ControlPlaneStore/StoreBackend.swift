/// The SQL a repository runs: SQLite and PostgreSQL share one statement text, written with
/// PostgreSQL's `$1…$n` placeholders (the SQLite backend renumbers them to `?1…?n`).
public enum SQLDialect: String, Sendable {
    case sqlite
    case postgres
}

/// One connection inside an open transaction.
public protocol StoreConnection: Sendable {
    @discardableResult
    func query(_ sql: String, _ binds: [SQLValue]) async throws(StoreError) -> [SQLRow]
}

extension StoreConnection {
    @discardableResult
    public func query(_ sql: String) async throws(StoreError) -> [SQLRow] { try await query(sql, []) }
}

/// The storage protocol with its two implementations, `SQLiteBackend` (one file in WAL mode,
/// the embedded default) and `PostgresBackend` (a pool, for several control-plane replicas).
/// Everything above it — migrations, the repository, the audit chain — is written once and
/// runs (and is tested) against both.
///
/// Every operation is a transaction: either the whole closure's work commits or none of it,
/// which is what keeps an administrative change and its audit entry together.
public protocol StoreBackend: Sendable {
    var dialect: SQLDialect { get }
    @discardableResult
    func transaction<T: Sendable>(_ body: @Sendable (any StoreConnection) async throws -> T) async throws -> T
    func close() async
}

/// Parses `--db`: `sqlite:PATH` (or a bare path ending in .db/.sqlite) or
/// `postgres://user[:password]@host[:port]/database`.
public enum DatabaseURL: Sendable, Equatable {
    case sqlite(path: String)
    case postgres(host: String, port: Int, user: String, password: String?, database: String)

    public static func parse(_ text: String) throws(StoreError) -> DatabaseURL {
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else { throw .invalidURL("sqlite: needs a file path, e.g. sqlite:/var/lib/tollgate/control-plane.db") }
            return .sqlite(path: path)
        }
        for scheme in ["postgres://", "postgresql://"] where text.hasPrefix(scheme) {
            let rest = text.dropFirst(scheme.count)
            guard let at = rest.lastIndex(of: "@") else {
                throw .invalidURL("postgres URL needs a user: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
            }
            let credentials = rest[..<at]
            let location = rest[rest.index(after: at)...]
            let user: String
            var password: String?
            if let colon = credentials.firstIndex(of: ":") {
                user = String(credentials[..<colon])
                password = String(credentials[credentials.index(after: colon)...]).removingPercentEscapes
            } else {
                user = String(credentials)
            }
            guard let slash = location.firstIndex(of: "/") else {
                throw .invalidURL("postgres URL needs a database name: postgres://USER@HOST[:PORT]/DATABASE")
            }
            let hostPort = location[..<slash]
            var database = String(location[location.index(after: slash)...])
            if let q = database.firstIndex(of: "?") { database = String(database[..<q]) }
            var host = String(hostPort)
            var port = 5432
            if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
                host = String(hostPort[..<colon])
                guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(p) else {
                    throw .invalidURL("postgres URL has an invalid port")
                }
                port = p
            }
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !user.isEmpty, !host.isEmpty, !database.isEmpty else {
                throw .invalidURL("postgres URL needs user, host and database: postgres://USER@HOST[:PORT]/DATABASE")
            }
            return .postgres(host: host, port: port, user: user.removingPercentEscapes, password: password, database: database)
        }
        throw .invalidURL("--db must be sqlite:PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, got \"\(text.prefix(40))\"")
    }

    /// For logs: never the password.
    public var redacted: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let host, let port, let user, _, let database): return "postgres://\(user)@\(host):\(port)/\(database)"
        }
    }
}

extension String {
    var removingPercentEscapes: String {
        var out: [UInt8] = []
        let bytes = Array(utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let v = UInt8(String(decoding: bytes[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                out.append(v)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
