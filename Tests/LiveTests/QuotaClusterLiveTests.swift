import Foundation
import Synchronization
import Testing
import TollgateTesting

/// Cluster-wide quotas: gateway instances (separate pods, each its own supervisor, workers and
/// quota table) sharing one real `redis-server`.
@Suite struct QuotaClusterLiveTests {
    static let limitedKey = "tg-cluster-closed"

    static func config(mock: Int, port: Int, redis: Int, keyLimits: String) -> String {
        """
        version: 1
        listeners: [{address: 127.0.0.1, port: \(port)}]
        providers:
          - name: mock
            kind: openai-compatible
            base_url: http://127.0.0.1:\(mock)/v1
        models:
          - name: chat
            provider: mock
            upstream_model: gpt-4o-mini
        quotas:
          redis:
            url: redis://127.0.0.1:\(redis)
            sync_interval_ms: 50
            timeout_ms: 200
            key_prefix: tg-live-\(redis)
        api_keys:
          - name: tester
            key_hash: "\(GatewayHarness.demoKeyHash)"
            models: ["*"]
            limits: \(keyLimits)
          - name: closed
            key_hash: "sha256:\(sha256Hex(limitedKey))"
            models: ["*"]
            limits: {requests_per_minute: 1000, on_redis_down: fail_closed}
        """
    }

    /// `tollgate_quota_cluster_sync_state` from /metrics (0 none, 1 healthy, 2 unavailable).
    static func syncState(_ h: GatewayHarness) throws -> Int? {
        let metrics = try h.adminClient().request("GET", "/metrics").bodyString
        return metrics.split(separator: "\n").first { $0.hasPrefix("tollgate_quota_cluster_sync_state ") }
            .flatMap { $0.split(separator: " ").last }.flatMap { Int($0) }
    }

    static func waitFor(_ h: GatewayHarness, state: Int, seconds: Double = 10) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try syncState(h) == state { return true }
            usleep(50_000)
        }
        return false
    }

    @Test func twoGatewaysEnforceOneLimitAndRedisOutagesDegradeAsConfigured() throws {
        let redis = try RedisServer()
        let limit = 12
        let a = try GatewayHarness(workers: 2, config: { Self.config(mock: $0, port: $1, redis: redis.port, keyLimits: "{requests_per_minute: \(limit)}") })
        let b = try GatewayHarness(workers: 2, config: { Self.config(mock: $0, port: $1, redis: redis.port, keyLimits: "{requests_per_minute: \(limit)}") })
        #expect(try Self.waitFor(a, state: 1) && Self.waitFor(b, state: 1), "both controllers reach Redis")

        // Alternate between the pods, paced slower than the sync interval (50 ms): each pod learns
        // the other's use within a round, so the overshoot stays a request or two (a busy CI
        // machine can delay a round; without the sync it would be 2 × limit).
        var admitted = 0
        for i in 0..<(2 * limit) {
            let h = i % 2 == 0 ? a : b
            if try h.client().postJSON("/v1/chat/completions", chatBody(model: "chat"), headers: auth()).status == 200 { admitted += 1 }
            usleep(120_000)
        }
        print("cluster limit \(limit)/min over two gateways: \(admitted) admitted of \(2 * limit)")
        #expect(admitted >= limit && admitted <= limit + 3, "one cluster-wide limit, not one per pod: \(admitted)")

        // Redis goes away: fail-open limits keep serving on local counts, fail-closed ones refuse.
        try redis.kill()
        #expect(try Self.waitFor(a, state: 2), "the outage is visible in /metrics")
        let closed = try a.client().postJSON("/v1/chat/completions", chatBody(model: "chat"), headers: auth(Self.limitedKey))
        #expect(closed.status == 429)
        #expect((try closed.json()["error"] as? [String: Any])?["code"] as? String == "quota_unavailable")
        let metrics = try a.adminClient().request("GET", "/metrics").bodyString
        #expect(metrics.contains("tollgate_quota_sync_outages_total 1"), "\(metrics)")

        // Redis is back (empty): sync resumes, the fail-closed key is served again.
        try redis.start()
        #expect(try Self.waitFor(a, state: 1))
        let reopened = try a.client().postJSON("/v1/chat/completions", chatBody(model: "chat"), headers: auth(Self.limitedKey))
        #expect(reopened.status == 200, "\(reopened.bodyString)")
    }

    @Test func strictLimitsAreExactAcrossGatewaysEvenInABurst() throws {
        let redis = try RedisServer()
        let limit = 6
        let keyLimits = "{requests_per_minute: \(limit), strict: true}"
        let a = try GatewayHarness(workers: 1, config: { Self.config(mock: $0, port: $1, redis: redis.port, keyLimits: keyLimits) })
        let b = try GatewayHarness(workers: 1, config: { Self.config(mock: $0, port: $1, redis: redis.port, keyLimits: keyLimits) })
        let results = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let h = i % 2 == 0 ? a : b
            for _ in 0..<2 {
                let status = (try? h.client().postJSON("/v1/chat/completions", chatBody(model: "chat"), headers: auth()).status) ?? 0
                results.withLock { $0.append(status) }
            }
        }
        let statuses = results.withLock { $0 }
        #expect(statuses.filter { $0 == 200 }.count == limit, "Redis decides every request: \(statuses)")
        #expect(statuses.filter { $0 == 429 }.count == 16 - limit)
    }
}
