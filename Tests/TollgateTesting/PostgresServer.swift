import Foundation
import Synchronization

/// A private PostgreSQL server for tests (Debian's `postgresql` package): `initdb` into a temp
/// directory, `postgres` on a free loopback port with a Unix socket in that directory, trust
/// auth for user `tollgate`, fsync off. One server per test process (`shared`), one database
/// per test (`createDatabase()`), so tests run in parallel without seeing each other's rows.
///
/// PostgreSQL refuses to run as root, and CI runs tests as root: then the server runs as the
/// `postgres` system user (which the package creates), or `nobody`. A shell wrapper stops the
/// server when the test process is gone and removes its directory, so an aborted run leaves
/// neither a server nor its files behind.
public final class PostgresServer: Sendable {
    public let port: Int
    public let directory: String
    public let user = "tollgate"
    private let process: ChildProcess
    private let binDirectory: String
    private let counter = Mutex(0)

    private static let sharedServer = Mutex<Result<PostgresServer, ChildProcessError>?>(nil)

    /// The process-wide server, started on first use.
    public static func shared() throws -> PostgresServer {
        try sharedServer.withLock { state in
            if let state { return try state.get() }
            let result: Result<PostgresServer, ChildProcessError>
            do {
                result = .success(try PostgresServer())
            } catch let error as ChildProcessError {
                result = .failure(error)
            } catch {
                result = .failure(ChildProcessError("\(error)"))
            }
            state = result
            return try result.get()
        }
    }

    /// The newest installed server's bin directory, e.g. /usr/lib/postgresql/15/bin.
    public static func findBinDirectory() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted(by: >)
        return versions.map { "\(root)/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }
    }

    public init() throws {
        guard let bin = Self.findBinDirectory() else {
            throw ChildProcessError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); run `make deps-test`")
        }
        binDirectory = bin
        port = try freeLoopbackPort()
        directory = NSTemporaryDirectory() + "tollgate-pg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let runAs = Self.serverUser()
        if let runAs {
            _ = try Self.run("/bin/chown", [runAs, directory])
        }
        let data = directory + "/data"
        try Self.run(as: runAs, bin + "/initdb", ["-D", data, "-U", user, "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"])
        let testPID = getpid()
        let script = """
            "\(bin)/postgres" -D "\(data)" -p \(port) -k "\(directory)" -c listen_addresses=127.0.0.1 \
              -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 & pid=$!
            while [ -d /proc/\(testPID) ] && kill -0 $pid 2>/dev/null; do sleep 0.5; done
            kill -INT $pid 2>/dev/null; wait $pid
            rm -rf "\(directory)"
            """
        process = try Self.spawn(as: runAs, "/bin/sh", ["-c", script])
        _ = try process.waitForOutput(containing: "database system is ready to accept connections", timeout: 30)
    }

    /// A new empty database; its name.
    public func createDatabase() throws -> String {
        let n = counter.withLock { value -> Int in
            value += 1
            return value
        }
        let name = "tg_\(getpid())_\(n)_\(UInt32.random(in: 0...UInt32.max))"
        try Self.run(as: nil, binDirectory + "/psql", ["-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", "postgres",
                                                       "-v", "ON_ERROR_STOP=1", "-q", "-c", "CREATE DATABASE \(name)"])
        return name
    }

    /// `postgres://tollgate@127.0.0.1:PORT/NAME`.
    public func url(database: String) -> String { "postgres://\(user)@127.0.0.1:\(port)/\(database)" }

    static func serverUser() -> String? {
        guard getuid() == 0 else { return nil }
        return getpwnam("postgres") != nil ? "postgres" : "nobody"
    }

    static func spawn(as user: String?, _ executable: String, _ arguments: [String]) throws -> ChildProcess {
        if let user {
            return try ChildProcess(executable: "/usr/sbin/runuser", arguments: ["-u", user, "--", executable] + arguments)
        }
        return try ChildProcess(executable: executable, arguments: arguments)
    }

    @discardableResult
    static func run(as user: String? = nil, _ executable: String, _ arguments: [String]) throws -> String {
        let child = try spawn(as: user, executable, arguments)
        let status = try child.waitForExit(timeout: 60)
        guard status == 0 else {
            throw ChildProcessError("\(executable) \(arguments.joined(separator: " ")) exited \(status):\n\(child.output.suffix(2000))")
        }
        return child.output
    }
}
