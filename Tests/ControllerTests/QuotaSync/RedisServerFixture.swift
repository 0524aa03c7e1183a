import Foundation
import TollgateTesting
@testable import Controller

/// A private `redis-server` on a free loopback port (no persistence), killed with the fixture.
/// `restart()` brings up an empty server on the same port, as after a crash without AOF.
final class RedisServerFixture {
    let port: Int
    let password: String?
    private(set) var process: ChildProcess?

    init(password: String? = nil) throws {
        port = try freeLoopbackPort()
        self.password = password
        try start()
    }

    var endpoint: RedisClient.Endpoint {
        RedisClient.Endpoint(host: "127.0.0.1", port: port, password: password, connectTimeoutMilliseconds: 300, commandTimeoutMilliseconds: 500)
    }

    func start() throws {
        var args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        if let password { args += ["--requirepass", password] }
        let child = try ChildProcess(executable: Self.binary, arguments: args)
        _ = try child.waitForOutput(containing: "Ready to accept connections", timeout: 10)
        process = child
    }

    func kill() throws {
        process?.signal(SIGKILL)
        _ = try process?.waitForExit(timeout: 5)
        process = nil
    }

    func restart() throws {
        try kill()
        try start()
    }

    static var binary: String {
        ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "redis-server"
    }
}
