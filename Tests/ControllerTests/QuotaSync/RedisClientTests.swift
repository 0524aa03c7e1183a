import Foundation
import Synchronization
import Testing
import TollgateTesting
@testable import QuotaCluster

@Suite struct RedisClientTests {
    @Test func pipelineRepliesInOrderWithServerErrorsInline() throws {
        let redis = try RedisServerFixture()
        let client = RedisClient(endpoint: redis.endpoint)
        let key = "t:\(UUID().uuidString)"
        let replies = try client.pipeline([["SET", key, "41"], ["INCR", key], ["HSET", key, "f", "1"], ["GET", key], ["GET", key + ":missing"]])
        #expect(replies[0] == .status("OK"))
        #expect(replies[1] == .integer(42))
        guard case .error(let message) = replies[2] else { Issue.record("WRONGTYPE expected"); return }
        #expect(message.hasPrefix("WRONGTYPE"))
        #expect(replies[3].integer == 42)
        #expect(replies[4] == .null)
    }

    @Test func scriptsSurviveAFlushedScriptCache() throws {
        let redis = try RedisServerFixture()
        let client = RedisClient(endpoint: redis.endpoint)
        let script = RedisScript("return tonumber(ARGV[1]) * 2")
        #expect(try client.evaluate(script, keys: [], arguments: ["21"]) == .integer(42))
        #expect(try client.command(["SCRIPT", "FLUSH"]) == .status("OK"))
        #expect(try client.evaluate(script, keys: [], arguments: ["5"]) == .integer(10))  // NOSCRIPT → reload
        _ = try client.command(["SCRIPT", "FLUSH"])
        let batch = try client.evaluateBatch(script, calls: [([], ["1"]), ([], ["2"])])
        #expect(batch == [.integer(2), .integer(4)])
        #expect(throws: RedisClientError.self) { try client.evaluate(RedisScript("return redis.call('NOPE')"), keys: [], arguments: []) }
    }

    @Test func authenticatesAndKeepsThePasswordOutOfErrors() throws {
        let secret = "s3cret-\(UUID().uuidString)"
        let redis = try RedisServerFixture(password: secret)
        #expect(try RedisClient(endpoint: redis.endpoint).command(["PING"]) == .status("PONG"))
        var wrong = redis.endpoint
        wrong.password = "not-the-password"
        do {
            _ = try RedisClient(endpoint: wrong).command(["PING"])
            Issue.record("a wrong password must fail")
        } catch {
            #expect("\(error)".contains("authentication failed"))
            #expect(!"\(error)".contains("not-the-password"))
        }
        var none = redis.endpoint
        none.password = nil
        guard case .error(let message) = try RedisClient(endpoint: none).command(["GET", "x"]) else {
            Issue.record("unauthenticated commands are refused"); return
        }
        #expect(message.hasPrefix("NOAUTH"))
        #expect(!redis.endpoint.description.contains(secret) && redis.endpoint.description.contains("***"))
    }

    @Test func reconnectsAfterTheServerComesBackWithBackoff() throws {
        let redis = try RedisServerFixture()
        var now: UInt64 = 1_000
        let clock = Mutex(now)
        let client = RedisClient(endpoint: redis.endpoint, clock: { clock.withLock { $0 } })
        #expect(try client.command(["PING"]) == .status("PONG"))
        try redis.kill()
        #expect(throws: RedisClientError.self) { try client.command(["PING"]) }  // the broken connection
        #expect(!client.isConnected)
        #expect(throws: RedisClientError.self) { try client.command(["PING"]) }  // refused: backoff starts
        #expect(throws: RedisClientError.backingOff(retryInMilliseconds: 100)) { try client.command(["PING"]) }
        try redis.start()
        #expect(throws: RedisClientError.backingOff(retryInMilliseconds: 100)) { try client.command(["PING"]) }
        now += 100
        clock.withLock { $0 = now }
        #expect(try client.command(["PING"]) == .status("PONG"))
    }

    @Test func backoffDoublesUpToTheCapAndResets() {
        var b = ReconnectBackoff(initialMilliseconds: 100, maximumMilliseconds: 350)
        #expect(b.wait(now: 0) == 0)
        b.failed(now: 1_000)
        #expect(b.wait(now: 1_000) == 100 && b.wait(now: 1_100) == 0)
        b.failed(now: 1_100)
        #expect(b.wait(now: 1_100) == 200)
        b.failed(now: 1_300)
        #expect(b.wait(now: 1_300) == 350)
        b.failed(now: 1_650)
        #expect(b.wait(now: 1_650) == 350)
        b.succeeded()
        #expect(b.wait(now: 1_650) == 0)
        b.failed(now: 2_000)
        #expect(b.wait(now: 2_000) == 100)
    }

    @Test func healthLogsOncePerOutage() {
        var h = SyncHealth()
        #expect(h.roundSucceeded(nowMilliseconds: 0) == .init(publish: .healthy, logOutage: false, recoveredAfterMilliseconds: nil))
        #expect(h.roundSucceeded(nowMilliseconds: 10) == .init(publish: nil, logOutage: false, recoveredAfterMilliseconds: nil))
        #expect(h.roundFailed(nowMilliseconds: 100) == .init(publish: .unavailable, logOutage: true, recoveredAfterMilliseconds: nil))
        #expect(h.roundFailed(nowMilliseconds: 300) == .init(publish: nil, logOutage: false, recoveredAfterMilliseconds: nil))
        #expect(h.roundSucceeded(nowMilliseconds: 1_100) == .init(publish: .healthy, logOutage: false, recoveredAfterMilliseconds: 1_000))
        var fresh = SyncHealth()
        #expect(fresh.roundFailed(nowMilliseconds: 5).logOutage)
    }

    @Test func settingsParseRedisURLs() throws {
        let plain = try QuotaSyncSettings.endpoint(url: "redis://cache.internal")
        #expect(plain.host == "cache.internal" && plain.port == 6379 && plain.password == nil && plain.database == 0)
        let full = try QuotaSyncSettings.endpoint(url: "redis://svc:pa:ss@10.0.0.5:6380/2")
        #expect(full.username == "svc" && full.password == "pa:ss" && full.host == "10.0.0.5" && full.port == 6380 && full.database == 2)
        #expect(!full.description.contains("pa:ss"))
        let passwordOnly = try QuotaSyncSettings.endpoint(url: "redis://:pw@h:1", password: "from-file")
        #expect(passwordOnly.username == nil && passwordOnly.password == "from-file")
        let v6 = try QuotaSyncSettings.endpoint(url: "redis://[::1]:7000")
        #expect(v6.host == "::1" && v6.port == 7000)
        #expect(throws: QuotaSyncSettingsError.self) { try QuotaSyncSettings.endpoint(url: "http://x") }
        #expect(throws: QuotaSyncSettingsError.self) { try QuotaSyncSettings.endpoint(url: "redis://h:99999") }
        #expect(throws: QuotaSyncSettingsError.self) { try QuotaSyncSettings.endpoint(url: "redis://h/db") }
        #expect(QuotaSyncSettings().problems.isEmpty)
        #expect(QuotaSyncSettings(intervalMilliseconds: 1, keyPrefix: "").problems.count == 2)
    }
}
