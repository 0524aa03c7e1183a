import Foundation
import Synchronization
import Testing
import TollgateTesting

/// Signals and process lifecycle of `tollgate serve`: reload, respawn, drain.
@Suite(.serialized) struct LifecycleLiveTests {
    @Test func sighupChangesARouteWithNoFailedRequestUnderLoad() throws {
        let h = try GatewayHarness(workers: 2, config: { mock, port in
            GatewayHarness.defaultConfig(mockPort: mock, port: port, chatBackend: "backend-a")
        })
        guard let gateway = h.gateway else { return }
        let stop = Atomic<Bool>(false)
        let failures = Mutex<[String]>([])
        let backends = Mutex<[String: Int]>([:])
        let total = Atomic<Int>(0)
        let threads = 4
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                let client = h.client()
                while !stop.load(ordering: .relaxed) {
                    do {
                        let r = try client.postJSON("/v1/chat/completions", chatBody(), headers: auth())
                        total.add(1, ordering: .relaxed)
                        if r.status != 200 {
                            failures.withLock { $0.append("status \(r.status): \(r.bodyString)") }
                        }
                        let b = r.header("x-tollgate-backend") ?? "?"
                        backends.withLock { $0[b, default: 0] += 1 }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
        Thread.sleep(forTimeInterval: 0.7)
        try h.rewriteConfig(GatewayHarness.defaultConfig(mockPort: h.mockPort, port: h.port, chatBackend: "backend-b"))
        gateway.signal(SIGHUP)
        // Wait until the new route serves, then keep the load on a little longer.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, backends.withLock({ $0["mock/backend-b", default: 0] }) < 50 {
            Thread.sleep(forTimeInterval: 0.05)
        }
        Thread.sleep(forTimeInterval: 0.3)
        stop.store(true, ordering: .relaxed)
        group.wait()
        let seen = backends.withLock { $0 }
        #expect(failures.withLock { $0 }.isEmpty, "failed requests during reload: \(failures.withLock { $0.prefix(5) })")
        #expect(seen["mock/backend-a", default: 0] > 0)
        #expect(seen["mock/backend-b", default: 0] >= 50, "the new route never took effect: \(seen)")
        #expect(total.load(ordering: .relaxed) > 100)

        // A broken config is rejected and the last good one keeps serving.
        try h.rewriteConfig("version: 1\nlisteners: []\nproviders: oops\n")
        gateway.signal(SIGHUP)
        _ = try gateway.waitForOutput(containing: "config reload rejected", timeout: 10)
        // Every worker serves the new route, including one that saw no request since the reload.
        for _ in 0..<10 {
            let r = try HTTPTestClient(port: h.port).postJSON("/v1/chat/completions", chatBody(), headers: auth())
            #expect(r.status == 200)
            #expect(r.header("x-tollgate-backend") == "mock/backend-b")
        }
    }

    @Test func aKilledWorkerIsReplaced() throws {
        let h = try GatewayHarness(workers: 2)
        guard let gateway = h.gateway else { return }
        let workers = childProcesses(of: gateway.pid).filter { $0.cmdline.contains(" worker ") }
        #expect(workers.count == 2)
        guard let victim = workers.first else { return }
        kill(victim.pid, SIGKILL)
        let killedAt = Date()
        var replaced = false
        while Date().timeIntervalSince(killedAt) < 5 {
            let now = childProcesses(of: gateway.pid).filter { $0.cmdline.contains(" worker ") }
            if now.count == 2, !now.contains(where: { $0.pid == victim.pid }) {
                replaced = true
                break
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        let elapsed = Date().timeIntervalSince(killedAt)
        #expect(replaced, "worker \(victim.pid) was not replaced")
        #expect(elapsed < 1.5, "replacement took \(elapsed) s")
        _ = try gateway.waitForOutput(containing: "respawning", timeout: 5)
        // And the pod keeps serving on fresh connections (which may land on the new worker).
        for _ in 0..<20 {
            let r = try HTTPTestClient(port: h.port).postJSON("/v1/chat/completions", chatBody(), headers: auth())
            #expect(r.status == 200)
        }
    }

    @Test func sigtermDrainsAnInFlightStream() throws {
        let h = try GatewayHarness(workers: 1, config: { mock, port in
            // 40 tokens at 20 tokens/s: a stream that lasts about two seconds.
            GatewayHarness.defaultConfig(mockPort: mock, port: port, chatBackend: "slow+tps=20+tokens=40")
        })
        guard let gateway = h.gateway else { return }
        let client = h.client()
        let stream = try client.startStreaming("POST", "/v1/chat/completions", headers: auth(), body: chatBody(stream: true))
        #expect(stream.status == 200)
        let first = try stream.nextChunk()
        #expect(first?.isEmpty == false)
        gateway.signal(SIGTERM)
        Thread.sleep(forTimeInterval: 0.3)
        // New connections are refused while the old stream is still being served.
        #expect(throws: (any Error).self) { try HTTPTestClient(port: h.port, timeout: 2).request("GET", "/healthz") }
        let events = try stream.sseEvents()
        #expect(events.last == "[DONE]", "stream was cut: \(events.suffix(3))")
        #expect(events.count >= 40)
        let status = try gateway.waitForExit(timeout: 15)
        #expect(status == 0)
    }

    /// Children must outlive idle threads of the supervisor: a parent-death signal tied to a
    /// retired thread once drained every worker about five seconds after start.
    @Test func childrenStayUpWhileTheGatewayIdles() throws {
        let h = try GatewayHarness(workers: 2)
        guard let gateway = h.gateway else { return }
        let before = Set(childProcesses(of: gateway.pid).map(\.pid))
        #expect(before.count == 3, "controller + 2 workers")
        Thread.sleep(forTimeInterval: 7)
        let after = Set(childProcesses(of: gateway.pid).map(\.pid))
        #expect(before == after, "children were replaced while idle: \(gateway.output.suffix(2000))")
        #expect(!gateway.output.contains("respawning"))
        #expect(try h.client().postJSON("/v1/chat/completions", chatBody(), headers: auth()).status == 200)
    }

    @Test func serveRefusesAnInvalidConfig() throws {
        let dir = try TempDirectory()
        let path = try dir.write("bad.yaml", """
        version: 1
        listeners: [{address: 127.0.0.1, port: 8080}]
        providers: [{name: openai, kind: openai, base_url: "https://api.openai.com/v1"}]
        models: [{name: m, route: r}]
        routes:
          - name: r
            priorities: [{backends: [{provider: opneai, model: gpt-4o}]}]
        """)
        let serve = try ChildProcess(executable: TestBinary.tollgatePath, arguments: ["serve", "--config", path, "--run-dir", dir.file("run")])
        #expect(try serve.waitForExit(timeout: 15) == 78)
        #expect(serve.output.contains("routes[0].priorities[0].backends[0].provider"))
        #expect(serve.output.contains("did you mean \"openai\""))

        let check = try ChildProcess(executable: TestBinary.tollgatePath, arguments: ["config", "check", path])
        #expect(try check.waitForExit(timeout: 15) == 78)
        #expect(check.output.contains("unknown provider \"opneai\""))
    }

    @Test func serveRefusesAPortAnotherGatewayListensOn() throws {
        let h = try GatewayHarness(workers: 1)
        let second = try ChildProcess(executable: TestBinary.tollgatePath,
                                      arguments: ["serve", "--config", h.configPath, "--workers", "1", "--run-dir", h.dir.file("run2")],
                                      environment: try h.environment())
        #expect(try second.waitForExit(timeout: 15) == 1)
        #expect(second.output.contains("address already in use"))
        #expect(try h.client().postJSON("/v1/chat/completions", chatBody(), headers: auth()).status == 200)
    }

    @Test func keysHashMatchesSHA256() throws {
        let p = try ChildProcess(executable: TestBinary.tollgatePath, arguments: ["keys", "hash", "abc"])
        #expect(try p.waitForExit(timeout: 10) == 0)
        #expect(p.output.contains("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
    }
}
