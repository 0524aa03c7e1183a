import Foundation
import Testing
import TollgateTesting

/// The two planes together, as real processes: `tollgate control-plane` on a temp SQLite
/// database, resources created through its API, and `tollgate serve --control-plane` polling
/// it in front of the mock provider. The gateway must keep serving while the control plane is
/// away (also across its own restart), and pick up changes when it is back.
@Suite(.serialized) struct ControlPlaneLiveTests {
    static let adminToken = "live-test-bootstrap-admin-token-0123456789"
    static let masterKey = "k1:" + Data(repeating: 9, count: 32).base64EncodedString()

    final class ControlPlane {
        let process: ChildProcess
        let port: Int
        init(db: String, port: Int = 0) throws {
            var env = ProcessInfo.processInfo.environment
            env["TOLLGATE_CP_ADMIN_TOKEN"] = ControlPlaneLiveTests.adminToken
            env["TOLLGATE_CP_MASTER_KEY"] = ControlPlaneLiveTests.masterKey
            process = try ChildProcess(executable: TestBinary.tollgatePath,
                                       arguments: ["control-plane", "--db", "sqlite:" + db, "--port", String(port)], environment: env)
            let line = try process.waitForOutput(containing: "tollgate control-plane ready", timeout: 30)
            guard let p = line.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) else {
                throw ChildProcessError("cannot parse the control plane's port from: \(line)")
            }
            self.port = p
        }

        func call(_ method: String, _ path: String, _ body: String? = nil) throws -> HTTPResponse {
            let client = HTTPTestClient(port: port, timeout: 10)
            defer { client.close() }
            // One exchange per connection: a 204 carries no length, so its end is the close.
            var headers = [("Authorization", "Bearer \(ControlPlaneLiveTests.adminToken)"), ("Connection", "close")]
            if body != nil { headers.append(("Content-Type", "application/json")) }
            return try client.request(method, path, headers: headers, body: body)
        }

        func create(_ path: String, _ body: String) throws -> [String: Any] {
            let r = try call("POST", path, body)
            guard r.status == 201 else { throw ChildProcessError("POST \(path) → \(r.status): \(r.bodyString)") }
            return try r.json()
        }

        func stop() throws {
            process.signal(SIGTERM)
            #expect(try process.waitForExit(timeout: 15) == 0)
        }
    }

    static func chat(_ port: Int, key: String) throws -> HTTPResponse {
        let client = HTTPTestClient(port: port, timeout: 15)
        defer { client.close() }
        return try client.postJSON("/v1/chat/completions", #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#,
                                   headers: [("Authorization", "Bearer \(key)")])
    }

    /// Polls until `check` holds or the deadline passes.
    static func eventually(_ seconds: Double, _ what: String, _ check: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try? check()) == true { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        Issue.record("not within \(seconds) s: \(what)")
    }

    @Test func theGatewayRunsOnControlPlaneConfigAndSurvivesItsAbsence() throws {
        let dir = try TempDirectory()
        let mock = try ChildProcess(executable: TestBinary.tollgatePath, arguments: ["mock-provider", "--host", "127.0.0.1", "--port", "0"])
        let mockLine = try mock.waitForOutput(containing: "listening on", timeout: 15)
        let mockPort = try #require(mockLine.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) })
        var cp = try ControlPlane(db: dir.file("cp.db"))
        let cpPort = cp.port

        let org = try #require(try cp.create("/api/v1/orgs", #"{"name":"acme"}"#)["id"] as? String)
        let base = "/api/v1/orgs/\(org)"
        _ = try cp.create("\(base)/providers", #"{"name":"mock","kind":"openai-compatible","base_url":"http://127.0.0.1:\#(mockPort)/v1","api_key":"sk-mock-upstream"}"#)
        let route = try cp.create("\(base)/routes", #"{"name":"chat","priorities":[{"backends":[{"provider":"mock","model":"gpt-4o-mini"}]}]}"#)
        let routeID = try #require(route["id"] as? String)
        _ = try cp.create("\(base)/models", #"{"name":"gpt-4o-mini","route":"chat"}"#)
        let key = try cp.create("\(base)/api-keys", #"{"name":"app","models":["*"]}"#)
        let secret = try #require(key["secret"] as? String)
        let keyID = try #require(key["id"] as? String)
        let gatewayPort = try freeLoopbackPort()
        let dp = try cp.create("\(base)/dataplanes", #"{"name":"local","listeners":[{"address":"127.0.0.1","port":\#(gatewayPort)}],"limits":{"shutdown_grace_ms":2000}}"#)
        let dpID = try #require(dp["id"] as? String)
        let tokenFile = try dir.write("dp-token", (try #require(dp["credential"] as? String)) + "\n")

        func startGateway() throws -> ChildProcess {
            let gw = try ChildProcess(executable: TestBinary.tollgatePath,
                                      arguments: ["serve", "--control-plane", "http://127.0.0.1:\(cpPort)", "--dataplane-id", dpID,
                                                  "--dataplane-token-file", tokenFile, "--state-dir", dir.file("state"),
                                                  "--poll-interval-ms", "500", "--workers", "1", "--run-dir", dir.file("run")])
            _ = try gw.waitForOutput(containing: "tollgate ready", timeout: 30)
            return gw
        }
        var gateway = try startGateway()
        let first = try Self.chat(gatewayPort, key: secret)
        #expect(first.status == 200, "\(first.bodyString)")
        #expect(first.header("x-tollgate-backend") == "mock/gpt-4o-mini")
        #expect(try Self.chat(gatewayPort, key: "tg_not-a-key").status == 401)
        try Self.eventually(10, "the data plane shows as reachable and in sync") {
            let status = try cp.call("GET", "\(base)/dataplanes/\(dpID)").json()["status"] as? [String: Any]
            return status?["reachable"] as? Bool == true && status?["in_sync"] as? Bool == true
        }

        // Control plane away: the gateway keeps serving, says so in its log, and a restarted
        // gateway starts on the last good config.
        try cp.stop()
        for _ in 0..<5 { #expect(try Self.chat(gatewayPort, key: secret).status == 200) }
        _ = try gateway.waitForOutput(containing: "control plane unreachable", timeout: 10)
        gateway.signal(SIGTERM)
        #expect(try gateway.waitForExit(timeout: 15) == 0)
        gateway = try startGateway()
        #expect(try Self.chat(gatewayPort, key: secret).status == 200)

        // Back, with a changed route: picked up within a poll or two; a revoked key stops working.
        cp = try ControlPlane(db: dir.file("cp.db"), port: cpPort)
        let update = try cp.call("PUT", "\(base)/routes/\(routeID)", #"{"name":"chat","priorities":[{"backends":[{"provider":"mock","model":"mock-small"}]}]}"#)
        #expect(update.status == 200, "\(update.bodyString)")
        try Self.eventually(10, "the changed route is served") {
            try Self.chat(gatewayPort, key: secret).header("x-tollgate-backend") == "mock/mock-small"
        }
        // A config the data plane cannot compile (a data-plane-local credential it does not
        // have) is rejected there, the last good one keeps serving, and the next heartbeat
        // reports why; removing the cause applies again.
        let local = try cp.create("\(base)/providers", #"{"name":"local","kind":"openai","base_url":"https://api.openai.com/v1","api_key_env":"TG_LIVE_TEST_MISSING_VAR"}"#)
        try Self.eventually(10, "the data plane reports the rejected config") {
            let status = try cp.call("GET", "\(base)/dataplanes/\(dpID)").json()["status"] as? [String: Any]
            return (status?["last_error"] as? String)?.contains("TG_LIVE_TEST_MISSING_VAR") == true && status?["in_sync"] as? Bool == false
        }
        _ = try gateway.waitForOutput(containing: "config from the control plane rejected", timeout: 5)
        #expect(try Self.chat(gatewayPort, key: secret).header("x-tollgate-backend") == "mock/mock-small")
        #expect(try cp.call("DELETE", "\(base)/providers/\(try #require(local["id"] as? String))").status == 204)
        try Self.eventually(10, "the data plane is in sync again") {
            let status = try cp.call("GET", "\(base)/dataplanes/\(dpID)").json()["status"] as? [String: Any]
            return status?["in_sync"] as? Bool == true && status?["last_error"] is NSNull
        }

        #expect(try cp.call("POST", "\(base)/api-keys/\(keyID)/revoke").status == 200)
        try Self.eventually(10, "the revoked key is refused") { try Self.chat(gatewayPort, key: secret).status == 401 }

        // An invalid config never reaches the gateway: the control plane refuses the change.
        let bad = try cp.call("PUT", "\(base)/routes/\(routeID)", #"{"name":"chat","priorities":[{"backends":[{"provider":"nope","model":"x"}]}]}"#)
        #expect(bad.status == 422)
        let verify = try cp.call("GET", "/api/v1/audit/verify").json()
        #expect(verify["ok"] as? Bool == true)
        gateway.signal(SIGTERM)
        _ = try gateway.waitForExit(timeout: 15)
        try cp.stop()
        withExtendedLifetime(mock) {}
    }

    /// Two regions, each with its own scope (the EU one also gets a model the US one does not),
    /// one registered with a one-time token, one with its credential; usage from both adds up.
    @Test func twoDataPlanesRunTheirOwnScopeOfOneOrganizationsConfig() throws {
        let dir = try TempDirectory()
        let mock = try ChildProcess(executable: TestBinary.tollgatePath, arguments: ["mock-provider", "--host", "127.0.0.1", "--port", "0"])
        let mockLine = try mock.waitForOutput(containing: "listening on", timeout: 15)
        let mockPort = try #require(mockLine.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) })
        let cp = try ControlPlane(db: dir.file("cp.db"))
        let org = try #require(try cp.create("/api/v1/orgs", #"{"name":"acme"}"#)["id"] as? String)
        let base = "/api/v1/orgs/\(org)"
        _ = try cp.create("\(base)/providers", #"{"name":"mock","kind":"openai-compatible","base_url":"http://127.0.0.1:\#(mockPort)/v1"}"#)
        _ = try cp.create("\(base)/models", #"{"name":"gpt-4o-mini","provider":"mock"}"#)
        _ = try cp.create("\(base)/models", #"{"name":"eu-only","provider":"mock","upstream_model":"gpt-4o-mini","scope":{"region":"eu"}}"#)
        let secret = try #require(try cp.create("\(base)/api-keys", #"{"name":"app"}"#)["secret"] as? String)
        var gateways: [(ChildProcess, Int, String)] = []
        for region in ["eu", "us"] {
            let port = try freeLoopbackPort()
            let dp = try cp.create("\(base)/dataplanes", #"{"name":"\#(region)","labels":{"region":"\#(region)"},"listeners":[{"address":"127.0.0.1","port":\#(port)}]}"#)
            let id = try #require(dp["id"] as? String)
            var arguments = ["serve", "--control-plane", "http://127.0.0.1:\(cp.port)", "--dataplane-id", id,
                             "--dataplane-token-file", dir.file("token-\(region)"), "--state-dir", dir.file("state-\(region)"),
                             "--poll-interval-ms", "500", "--workers", "1", "--run-dir", dir.file("run-\(region)")]
            if region == "eu" {
                let registration = try cp.create("\(base)/dataplanes/\(id)/registration-token", "{}")
                let file = try dir.write("registration-eu", try #require(registration["registration_token"] as? String))
                arguments += ["--dataplane-registration-token-file", file]
            } else {
                _ = try dir.write("token-\(region)", try #require(dp["credential"] as? String))
            }
            let gw = try ChildProcess(executable: TestBinary.tollgatePath, arguments: arguments)
            _ = try gw.waitForOutput(containing: "tollgate ready", timeout: 30)
            gateways.append((gw, port, id))
        }
        #expect(FileManager.default.contents(atPath: dir.file("token-eu")).map { String(decoding: $0, as: UTF8.self).hasPrefix("tgdp_") } == true,
                "the registration wrote the credential")
        let scoped = { (port: Int) throws -> Int in
            let client = HTTPTestClient(port: port, timeout: 15)
            defer { client.close() }
            return try client.postJSON("/v1/chat/completions", #"{"model":"eu-only","messages":[{"role":"user","content":"hi"}]}"#,
                                       headers: [("Authorization", "Bearer \(secret)")]).status
        }
        #expect(try scoped(gateways[0].1) == 200)
        #expect(try scoped(gateways[1].1) == 404)
        for (_, port, id) in gateways {
            #expect(try Self.chat(port, key: secret).status == 200)
            try Self.eventually(10, "data plane \(id) is in sync") {
                (try cp.call("GET", "\(base)/dataplanes/\(id)").json()["status"] as? [String: Any])?["in_sync"] as? Bool == true
            }
        }
        let listed = try cp.call("GET", "\(base)/dataplanes").json()["items"] as? [[String: Any]]
        #expect(listed?.count == 2)

        // Usage: both data planes count in their shared memory and upload after their polls;
        // the control plane sums them per key (an unknown model counts as a client error).
        let client = HTTPTestClient(port: gateways[0].1, timeout: 15)
        let unknown = try client.postJSON("/v1/chat/completions", #"{"model":"nope","messages":[{"role":"user","content":"hi"}]}"#,
                                          headers: [("Authorization", "Bearer \(secret)")])
        client.close()
        #expect(unknown.status == 404 || unknown.status == 400, "\(unknown.bodyString)")
        try Self.eventually(15, "both data planes' usage is uploaded") {
            let items = try cp.call("GET", "\(base)/usage?group_by=key").json()["items"] as? [[String: Any]]
            guard let app = items?.first(where: { $0["key"] as? String == "app" }) else { return false }
            return app["requests"] as? Int == 5 && (app["errors"] as? [String: Any])?["client"] as? Int == 2
                && (app["input_tokens"] as? Int ?? 0) > 0 && (app["output_tokens"] as? Int ?? 0) > 0
        }
        for (gw, _, _) in gateways {
            gw.signal(SIGTERM)
            _ = try gw.waitForExit(timeout: 15)
        }
        try cp.stop()
        withExtendedLifetime(mock) {}
    }

    @Test func migrateAndAuditVerifyAreCommands() throws {
        let dir = try TempDirectory()
        let db = "sqlite:" + dir.file("cp.db")
        let migrate = try ChildProcess(executable: TestBinary.tollgatePath, arguments: ["control-plane", "migrate", "--db", db])
        #expect(try migrate.waitForExit(timeout: 30) == 0)
        #expect(migrate.output.contains("applied migration(s) 1"))
        let again = try ChildProcess(executable: TestBinary.tollgatePath, arguments: ["control-plane", "migrate", "--db", db])
        #expect(try again.waitForExit(timeout: 30) == 0)
        #expect(again.output.contains("nothing to apply"))
        let cp = try ControlPlane(db: dir.file("cp.db"))
        _ = try cp.create("/api/v1/orgs", #"{"name":"acme"}"#)
        try cp.stop()
        let verify = try ChildProcess(executable: TestBinary.tollgatePath, arguments: ["control-plane", "audit", "verify", "--db", db])
        #expect(try verify.waitForExit(timeout: 30) == 0)
        #expect(verify.output.contains("audit log intact: 1 entries"))
        let sqlite = try ChildProcess(executable: "/usr/bin/env", arguments: ["python3", "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE audit_log SET actor='x'\"); c.commit()", dir.file("cp.db")])
        #expect(try sqlite.waitForExit(timeout: 30) == 0)
        let broken = try ChildProcess(executable: TestBinary.tollgatePath, arguments: ["control-plane", "audit", "verify", "--db", db])
        #expect(try broken.waitForExit(timeout: 30) == 1)
        #expect(broken.output.contains("BROKEN at entry 1"))
    }
}
