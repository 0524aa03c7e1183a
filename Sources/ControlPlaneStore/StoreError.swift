/// What a store operation can fail with; the API maps each case to a status and a stable code.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No row with that id (404).
    case notFound(String)
    /// A uniqueness constraint refused the write (409): the name is taken.
    case conflict(String)
    /// `If-Match` named a version that is no longer current (412).
    case versionMismatch(expected: Int64, current: Int64)
    /// The database holds something this code cannot read.
    case corrupt(String)
    /// The schema is newer than this binary: refuse to run rather than write to it.
    case schemaTooNew(database: Int, binary: Int)
    /// `--db` is not `sqlite:PATH` or `postgres://…`.
    case invalidURL(String)
    /// The database itself failed (I/O, connection, syntax): the message is the driver's.
    case backend(String)

    public var description: String {
        switch self {
        case .notFound(let what): return "\(what) not found"
        case .conflict(let what): return what
        case .versionMismatch(let expected, let current): return "version \(expected) is not current (current: \(current))"
        case .corrupt(let what): return "stored data is unreadable: \(what)"
        case .schemaTooNew(let db, let bin): return "the database schema is version \(db) but this tollgate only knows up to \(bin); upgrade tollgate"
        case .invalidURL(let why): return why
        case .backend(let message): return "database error: \(message)"
        }
    }
}
