import Foundation

/// A private `redis-server` on a free loopback port (no persistence), killed with the value.
/// `restart()` brings up an empty server on the same port, as after a crash without AOF.
public final class RedisServer {
    public let port: Int
    public let password: String?
    public private(set) var process: ChildProcess?

    public init(password: String? = nil) throws {
        port = try freeLoopbackPort()
        self.password = password
        try start()
    }

    public func start() throws {
        var args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        if let password { args += ["--requirepass", password] }
        let child = try ChildProcess(executable: Self.binary, arguments: args)
        _ = try child.waitForOutput(containing: "Ready to accept connections", timeout: 10)
        process = child
    }

    public func kill() throws {
        process?.signal(SIGKILL)
        _ = try process?.waitForExit(timeout: 5)
        process = nil
    }

    public func restart() throws {
        try kill()
        try start()
    }

    public static var binary: String {
        ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "redis-server"
    }
}
