import Foundation
import Logging
import SharedState
import Testing
import TollgateTesting
@testable import QuotaCluster

/// Two simulated pods (two quota tables, two sync loops driven round by round) against a real
/// redis-server.
@Suite struct QuotaSyncTests {
    final class Pod {
        let file: String
        let table: QuotaTable
        let sync: QuotaSync

        init(dir: TempDirectory, name: String, endpoint: RedisClient.Endpoint?, prefix: String) throws {
            file = dir.file("\(name).shm")
            table = try QuotaTable.create(path: file, capacity: 256, workerSlots: 1)
            sync = QuotaSync(table: table, settings: QuotaSyncSettings(redis: endpoint, keyPrefix: prefix), logger: Logger(label: "test.\(name)"))
        }

        @discardableResult
        func spend(_ limit: QuotaLimit, _ cost: UInt64) -> Bool {
            if case .admitted = table.acquire([QuotaCharge(limit, cost: cost)], worker: 0) { return true }
            return false
        }

        func used(_ limit: QuotaLimit) -> UInt64 { limit.limit - table.peek(limit).remaining }

        /// Sync rounds until one succeeds (the client may be waiting out its reconnect backoff).
        func syncUntilHealthy(timeout: Double = 15) throws {
            let deadline = Date().addingTimeInterval(timeout)
            while true {
                if case .synced = sync.syncOnce() { return }
                if Date() > deadline { throw ChildProcessError("sync did not recover within \(timeout) s") }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }

    let budget = QuotaLimit(LimitDefinition(name: "usd-day", unit: .microUSD, limit: 10_000, window: .calendar(.day, timeZone: "UTC"), sharing: .clusterFailOpen), scope: "team:t")!
    let closed = QuotaLimit(LimitDefinition(name: "rpm", unit: .requests, limit: 1_000, window: .rolling(periodSeconds: 60), sharing: .clusterFailClosed), scope: "key:k")!
    let tokens = QuotaLimit(LimitDefinition(name: "tpm", unit: .tokens, limit: 60_000, window: .rolling(periodSeconds: 60), sharing: .clusterFailOpen), scope: "key:k")!

    private func cluster(_ redis: RedisServerFixture?) throws -> (TempDirectory, Pod, Pod, String) {
        let dir = try TempDirectory()
        let prefix = "test:\(UUID().uuidString):"
        return (dir, try Pod(dir: dir, name: "a", endpoint: redis?.endpoint, prefix: prefix),
                try Pod(dir: dir, name: "b", endpoint: redis?.endpoint, prefix: prefix), prefix)
    }

    /// The cluster total Redis holds for a limit's slot.
    private func redisTotal(_ redis: RedisServerFixture, _ pod: Pod, _ limit: QuotaLimit) throws -> Int64 {
        let client = RedisClient(endpoint: redis.endpoint)
        let slot = try #require(pod.table.syncedSlots().first { $0.key == limit.slotKey(unixNanoseconds: QuotaClock.unixNanoseconds()).key })
        guard case .array(let values) = try client.command(["HVALS", pod.sync.redisKey(slot.key)]) else { return -1 }
        return values.compactMap(\.integer).reduce(0, +)
    }

    @Test func twoPodsEnforceOneBudget() throws {
        let redis = try RedisServerFixture()
        let (_, a, b, _) = try cluster(redis)
        #expect(a.spend(budget, 3_000) && b.spend(budget, 2_000))
        #expect(a.sync.syncOnce() == .synced(keys: 1, foreignCharged: 0))
        #expect(b.sync.syncOnce() == .synced(keys: 1, foreignCharged: 3_000))
        #expect(a.sync.syncOnce() == .synced(keys: 1, foreignCharged: 2_000))
        #expect(a.used(budget) == 5_000 && b.used(budget) == 5_000)
        #expect(a.table.clusterSyncState == .healthy)
        // Spending the rest on A leaves nothing for B once the sync ran.
        #expect(a.spend(budget, 5_000))
        _ = a.sync.syncOnce()
        _ = b.sync.syncOnce()
        #expect(!b.spend(budget, 1))
        #expect(try redisTotal(redis, a, budget) == 10_000)
        // Repeated rounds change nothing: totals are absolute, never re-added.
        for _ in 0..<3 { _ = a.sync.syncOnce(); _ = b.sync.syncOnce() }
        #expect(try redisTotal(redis, a, budget) == 10_000)
        #expect(a.used(budget) == 10_000 && b.used(budget) == 10_000)
    }

    @Test func rollingLimitsChargeForeignConsumptionIntoTheTAT() throws {
        let redis = try RedisServerFixture()
        let (_, a, b, _) = try cluster(redis)
        #expect(a.spend(tokens, 1_000) && b.spend(tokens, 1))
        _ = a.sync.syncOnce()
        _ = b.sync.syncOnce()  // baseline: A's first 1 000 are history to B
        #expect(b.used(tokens) <= 2)
        #expect(a.spend(tokens, 30_000))
        _ = a.sync.syncOnce()
        #expect(b.sync.syncOnce() == .synced(keys: 1, foreignCharged: 30_000))
        let bUsed = b.used(tokens)
        #expect(bUsed >= 29_990 && bUsed <= 30_001)  // less what refilled meanwhile (1 token per ms)
        // Refunds travel too, but are never given back to other pods (safe side).
        guard case .admitted(let r) = a.table.acquire([QuotaCharge(tokens, cost: 10_000)], worker: 0) else {
            Issue.record("must pass"); return
        }
        a.table.settle(r, actual: QuotaUsage(tokens: 4_000))
        _ = a.sync.syncOnce()
        #expect(b.sync.syncOnce() == .synced(keys: 1, foreignCharged: 4_000))
    }

    @Test func redisKilledAndRestartedEndsWithExactTotals() throws {
        let redis = try RedisServerFixture()
        let (_, a, b, _) = try cluster(redis)
        #expect(a.spend(budget, 1_000) && b.spend(budget, 500) && a.spend(closed, 10))
        _ = a.sync.syncOnce()
        _ = b.sync.syncOnce()
        _ = a.sync.syncOnce()
        #expect(a.used(budget) == 1_500)

        try redis.kill()
        #expect(a.spend(budget, 700))  // fail-open: local enforcement goes on
        #expect(b.spend(budget, 300))
        guard case .failed = a.sync.syncOnce() else { Issue.record("Redis is down"); return }
        guard case .failed = a.sync.syncOnce() else { Issue.record("Redis is down"); return }
        _ = b.sync.syncOnce()
        #expect(a.table.clusterSyncState == .unavailable)
        #expect(a.table.statistic(.syncOutages) == 1 && a.table.statistic(.syncFailures) == 2)
        #expect(!a.spend(closed, 1), "fail-closed limits reject while Redis is away")
        #expect(a.spend(budget, 1) == true)
        #expect(a.used(budget) == 2_201 && b.used(budget) == 1_800)

        try redis.start()  // empty: everything it knew is gone
        try a.syncUntilHealthy()
        try b.syncUntilHealthy()
        _ = a.sync.syncOnce()
        #expect(a.table.clusterSyncState == .healthy)
        #expect(a.spend(closed, 1))
        // Every unit spent anywhere is counted exactly once: 1 000 + 500 + 700 + 300 + 1.
        #expect(try redisTotal(redis, a, budget) == 2_501)
        #expect(a.used(budget) == 2_501 && b.used(budget) == 2_501)
        for _ in 0..<2 { _ = a.sync.syncOnce(); _ = b.sync.syncOnce() }
        #expect(try redisTotal(redis, a, budget) == 2_501)
    }

    @Test func failClosedFromTheStartWhenRedisIsUnreachable() throws {
        let dir = try TempDirectory()
        let port = try freeLoopbackPort()  // nothing listens there
        let pod = try Pod(dir: dir, name: "lonely",
                          endpoint: RedisClient.Endpoint(host: "127.0.0.1", port: port, connectTimeoutMilliseconds: 200), prefix: "x:")
        #expect(pod.spend(closed, 1), "before the first round nothing is known yet")
        guard case .failed(let error) = pod.sync.syncOnce() else { Issue.record("must fail"); return }
        #expect("\(error)".contains("127.0.0.1:\(port)"))
        #expect(pod.table.clusterSyncState == .unavailable)
        guard case .rejected(let no) = pod.table.acquire([QuotaCharge(closed, cost: 1)], worker: 0) else {
            Issue.record("fail-closed must reject"); return
        }
        #expect(no.reason == .clusterSyncUnavailable && no.retryAfterSeconds == 1)
        guard case .failed(.backingOff) = pod.sync.syncOnce() else { Issue.record("the next round waits out the backoff"); return }
    }

    @Test func withoutRedisTheLoopOnlyCollectsGarbage() throws {
        let (_, a, _, _) = try cluster(nil)
        #expect(a.sync.syncOnce() == .disabled)
        #expect(a.table.clusterSyncState == QuotaTable.ClusterSyncState.none)
        #expect(a.spend(closed, 1))
        #expect(a.sync.collectGarbage(unixNanoseconds: QuotaClock.unixNanoseconds() + 3_600 * 1_000_000_000) == 1)
    }

    @Test func theLoopThreadSyncsOnItsOwn() throws {
        let redis = try RedisServerFixture()
        let (_, a, b, _) = try cluster(redis)
        a.sync.start()
        b.sync.start()
        defer { a.sync.stop(); b.sync.stop() }
        // A pod syncs the keys it has slots for, i.e. that its workers used.
        #expect(b.spend(budget, 1))
        #expect(a.spend(budget, 1_234))
        let deadline = Date().addingTimeInterval(5)
        while b.used(budget) != 1_235 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(b.used(budget) == 1_235)
        #expect(a.table.statistic(.syncRounds) > 0)
    }
}
