import Foundation
import Logging
import SharedState
import Testing
import TollgateTesting
@testable import QuotaCluster

/// Simulated pods (a quota table and a lease loop each, rounds driven by the test) against a
/// real redis-server: the lease protocol end to end, without gateways.
@Suite struct QuotaSyncTests {
    final class Pod {
        let table: QuotaTable
        let sync: QuotaSync

        init(dir: TempDirectory, name: String, endpoint: RedisClient.Endpoint?, prefix: String, ttlMs: Int = 3_000) throws {
            table = try QuotaTable.create(path: dir.file("\(name).shm"), capacity: 256, workerSlots: 1)
            sync = QuotaSync(table: table, settings: QuotaSyncSettings(redis: endpoint, intervalMilliseconds: 50, keyPrefix: prefix,
                                                                       leaseTTLMilliseconds: ttlMs),
                             logger: Logger(label: "test.\(name)"))
        }

        /// Admission as a worker does it: wait for the lease (here: run demand rounds).
        func spend(_ limit: QuotaLimit, _ cost: UInt64) -> QuotaReservation? {
            for _ in 0..<4 {
                switch table.acquire([QuotaCharge(limit, cost: cost)], worker: 0, onLeasePending: .wait) {
                case .admitted(let r): return r
                case .rejected(let no) where no.reason == .awaitingLease: _ = sync.syncOnce(full: false)
                case .rejected: return nil
                }
            }
            return nil
        }

        func state(_ limit: QuotaLimit) -> QuotaTable.LeaseState? {
            table.leaseSlots().first { $0.key == limit.slotKey(unixNanoseconds: QuotaClock.unixNanoseconds()).key }.flatMap { table.leaseState($0) }
        }

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

    let budget = QuotaLimit(LimitDefinition(name: "usd-day", unit: .microUSD, limit: 10_000, window: .calendar(.day, timeZone: "UTC"),
                                            sharing: .clusterFailOpen), scope: "team:t")!
    let rpm = QuotaLimit(LimitDefinition(name: "rpm", unit: .requests, limit: 60, window: .rolling(periodSeconds: 60),
                                         sharing: .clusterFailClosed), scope: "key:k")!

    private func cluster(_ redis: RedisServerFixture?, pods: Int = 2, ttlMs: Int = 3_000) throws -> (TempDirectory, [Pod], String) {
        let dir = try TempDirectory()
        let prefix = "test:\(UUID().uuidString):"
        return (dir, try (0..<pods).map { try Pod(dir: dir, name: "p\($0)", endpoint: redis?.endpoint, prefix: prefix, ttlMs: ttlMs) }, prefix)
    }

    /// The key's hash in Redis: `v` and the participants' records.
    private func redisHash(_ redis: RedisServerFixture, _ pod: Pod, _ limit: QuotaLimit) throws -> [String: Double] {
        let client = RedisClient(endpoint: redis.endpoint)
        guard case .array(let items) = try client.command(["HGETALL", pod.sync.redisKey(limit.slotKey(unixNanoseconds: QuotaClock.unixNanoseconds()).key)]) else { return [:] }
        var out: [String: Double] = [:]
        for i in stride(from: 0, to: items.count - 1, by: 2) {
            if let k = items[i].string, let v = items[i + 1].string.flatMap(Double.init) { out[k] = v }
        }
        return out
    }

    @Test func twoPodsSpendOneBudgetExactly() throws {
        let redis = try RedisServerFixture()
        let (_, pods, _) = try cluster(redis)
        var admitted: UInt64 = 0
        var turn = 0
        var misses = 0
        // Alternate pods, 70 µUSD per request; run full rounds now and then as the loop would.
        while misses < 4 {
            let pod = pods[turn % 2]
            turn += 1
            if turn % 7 == 0 { for p in pods { _ = p.sync.syncOnce() } }
            if pod.spend(budget, 70) != nil { admitted += 70; misses = 0 } else { misses += 1 }
            if turn > 1_000 { break }
        }
        #expect(admitted <= 10_000 && admitted >= 10_000 - 2 * 70, "\(admitted) of 10 000: spent to within one request per pod")
        #expect(try redisHash(redis, pods[0], budget)["v"] ?? 0 <= 10_000)
        let calls = pods.map { $0.table.statistic(.leaseCalls) }.reduce(0, +)
        print("two pods, 10 000-unit budget in 70-unit requests: \(admitted) admitted, \(calls) lease calls for \(admitted / 70) requests")
    }

    @Test func slicesShrinkAsTheLimitNearsExhaustion() throws {
        let redis = try RedisServerFixture()
        let (_, pods, _) = try cluster(redis, pods: 1)
        let pod = pods[0]
        var grants: [Int64] = []
        var granted: Int64 = 0
        for i in 0..<12_000 {
            if i % 100 == 0 { _ = pod.sync.syncOnce() }  // full rounds see the rate
            guard pod.spend(budget, 1) != nil else { break }
            let g = pod.state(budget)!.granted
            if g > granted { grants.append(g - granted); granted = g }
        }
        #expect(pod.state(budget)?.consumed == 10_000, "spent to the last unit")
        #expect(grants.max() ?? 0 <= 2_500, "never more than a quarter of what is left: \(grants.prefix(5))")
        #expect(grants.suffix(3) == [1, 1, 1], "the last slices are single units: \(grants.suffix(8))")
        print("lease slices for a 10 000-unit budget spent one unit at a time: \(grants.count) grants, first \(grants.prefix(4)), last \(grants.suffix(6))")
    }

    @Test func settlementRefundsGoBackToRedisOnRelease() throws {
        let redis = try RedisServerFixture()
        let (_, pods, _) = try cluster(redis)
        let a = pods[0], b = pods[1]
        let r = try #require(a.spend(budget, 9_000))
        a.table.settle(r, actual: QuotaUsage(microUSD: 1_000))
        // A holds the 8 000 refunded units; giving them back lets B spend them.
        _ = a.sync.releaseAll()
        #expect(try redisHash(redis, a, budget)["v"] == 1_000)
        var spentByB: UInt64 = 0
        while b.spend(budget, 500) != nil { spentByB += 500; if spentByB > 10_000 { break } }
        #expect(spentByB == 9_000)
    }

    @Test func rollingLimitsLeaseFromOneClusterGCRA() throws {
        let redis = try RedisServerFixture()
        let (_, pods, _) = try cluster(redis)
        var admitted = 0
        for i in 0..<200 where pods[i % 2].spend(rpm, 1) != nil { admitted += 1 }
        #expect(admitted >= 60 && admitted <= 62, "the burst (60) and what refilled meanwhile: \(admitted)")
        #expect(pods[0].spend(rpm, 1) == nil)
        guard case .rejected(let no) = pods[0].table.acquire([QuotaCharge(rpm, cost: 1)], worker: 0, onLeasePending: .wait) else {
            Issue.record("refused"); return
        }
        #expect(no.reason == .limitExceeded && (no.retryAfterSeconds ?? 0) >= 1)
    }

    @Test func theScriptIsIdempotentForLostRepliesAndRebuildsALostRedis() throws {
        let redis = try RedisServerFixture()
        let client = RedisClient(endpoint: redis.endpoint)
        let key = "t:\(UUID().uuidString)"
        let epochKey = key + ":epoch"
        func lease(_ id: String, g: Int64, u: Int64, want: Int64, need: Int64 = 1, first: Bool = false, epoch: String = "") throws -> [Int64] {
            guard case .array(let r) = try client.evaluate(LeaseScript.script, keys: [key, epochKey], arguments: [
                id, String(g), String(u), String(want), String(need), "3000", "c", "1000", "60000", first ? "1" : "0", epoch, "200",
            ]) else { return [] }
            return r.prefix(4).compactMap(\.integer)
        }
        func v() throws -> Int64 { try client.command(["HGET", key, "v"]).integer ?? -1 }
        // At most 4 % of the limit per live participant (and a quarter of what is left).
        #expect(try lease("a.1", g: 0, u: 0, want: 100, first: true)[0] == 40)
        #expect(try v() == 40)
        // The reply was lost: the pod asks again with the same absolute numbers.
        #expect(try lease("a.1", g: 0, u: 0, want: 100)[0] == 40)
        #expect(try v() == 40, "the lost grant was dropped, not added")
        #expect(try lease("b.1", g: 0, u: 0, want: 300, first: true)[0] == 20, "two live participants: 2 % each")
        // A spends 30 and releases 10 (its G goes down by the units returned).
        _ = try lease("a.1", g: 30, u: 30, want: 0, need: 0)
        #expect(try v() == 50)
        // Redis loses everything; both pods report their absolute numbers and it is rebuilt.
        // A pod that knew the old epoch opens a rebuild window: nothing is granted in it.
        let oldEpoch = try client.command(["HGET", epochKey, "id"]).string ?? ""
        #expect(!oldEpoch.isEmpty)
        _ = try client.command(["FLUSHALL"])
        let during = try lease("a.1", g: 30, u: 30, want: 10, need: 1, epoch: oldEpoch)
        #expect(during[0] == 0 && during[3] > 150_000 && during[3] <= 200_000, "refused for the rebuild window: \(during)")
        _ = try lease("b.1", g: 20, u: 10, want: 0, need: 0, epoch: oldEpoch)
        #expect(try v() == 50, "30 consumed by A, 10 consumed and 10 held by B")
        Thread.sleep(forTimeInterval: 0.25)
        #expect(try lease("a.1", g: 30, u: 30, want: 10_000) == [20, 930, 2, 0])
        // A request larger than what is left: refused; retry after a lease TTL, when the
        // others' holds may have come back.
        #expect(try lease("c.1", g: 0, u: 0, want: 10_000, need: 10_000, first: true) == [0, 930, 3, 3_000_000])
        #expect(try lease("c.1", g: 0, u: 0, want: 930, need: 930) == [930, 0, 3, 0], "one request may take all that is left")
    }

    @Test func aDeadPodsLeaseComesBackAfterItsTTL() throws {
        let redis = try RedisServerFixture()
        let (_, pods, _) = try cluster(redis, ttlMs: 300)
        let a = pods[0], b = pods[1]
        #expect(a.spend(budget, 4_000) != nil)
        #expect(a.state(budget)?.allowance == 0, "a slice of exactly the request: a quarter of the budget is less")
        // A's next renewal reports its consumption (a round a third of a lease TTL later).
        _ = a.sync.syncOnce(unixNanoseconds: QuotaClock.unixNanoseconds() + 150_000_000)
        let heldByA = try #require(a.state(budget)).allowance
        #expect(a.state(budget)?.consumed == 4_000)
        // A dies (never calls again). Until its lease expires B cannot have A's units.
        var spentByB: UInt64 = 0
        while b.spend(budget, 500) != nil { spentByB += 500 }
        #expect(spentByB <= UInt64(6_000 - heldByA))
        let deadline = Date().addingTimeInterval(5)
        while b.spend(budget, 500) == nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.05); _ = b.sync.syncOnce() }
        spentByB += 500
        while b.spend(budget, 500) != nil { spentByB += 500 }
        #expect(spentByB == 6_000, "A's unused hold came back; its reported 4 000 stay spent")
    }

    @Test func redisRestartedMidRunReconcilesWithoutDoubleCounting() throws {
        let redis = try RedisServerFixture()
        let (_, pods, _) = try cluster(redis)
        let a = pods[0], b = pods[1]
        #expect(a.spend(budget, 1_000) != nil && b.spend(budget, 500) != nil)
        try redis.kill()
        // The pods keep spending what they hold; A's fail-open share is what Redis last said.
        var spent: UInt64 = 1_500
        // The next lease call fails; then fail-open spends a local share of what was left.
        for pod in [a, b] { if pod.spend(budget, 300) != nil { spent += 300 } }
        #expect(spent == 2_100)
        #expect(a.table.clusterSyncState == .unavailable && a.table.statistic(.syncOutages) == 1)
        try redis.start()  // empty: everything it knew is gone
        try a.syncUntilHealthy()
        try b.syncUntilHealthy()
        _ = a.sync.syncOnce()  // the first full round after the outage reports every slot
        _ = b.sync.syncOnce()
        // Every unit spent anywhere is counted once: the pods' consumption plus their holds.
        let stateA = try #require(a.state(budget)), stateB = try #require(b.state(budget))
        #expect(stateA.consumed + stateB.consumed == Int64(spent))
        let v = try redisHash(redis, a, budget)["v"] ?? -1
        #expect(v == Double(max(stateA.granted, stateA.consumed) + max(stateB.granted, stateB.consumed)))
        for _ in 0..<2 { _ = a.sync.syncOnce(); _ = b.sync.syncOnce() }
        // Further rounds may lease more, but Redis still counts exactly what the pods hold or used.
        let (a2, b2) = (try #require(a.state(budget)), try #require(b.state(budget)))
        #expect(try redisHash(redis, a, budget)["v"] == Double(max(a2.granted, a2.consumed) + max(b2.granted, b2.consumed)), "rounds repeat nothing")
        #expect(a2.consumed + b2.consumed == Int64(spent))
    }

    @Test func failClosedFromTheStartWhenRedisIsUnreachable() throws {
        let dir = try TempDirectory()
        let port = try freeLoopbackPort()  // nothing listens there
        let pod = try Pod(dir: dir, name: "lonely", endpoint: RedisClient.Endpoint(host: "127.0.0.1", port: port, connectTimeoutMilliseconds: 200),
                          prefix: "x:")
        guard case .rejected(let wait) = pod.table.acquire([QuotaCharge(rpm, cost: 1)], worker: 0, onLeasePending: .wait) else {
            Issue.record("no lease yet"); return
        }
        #expect(wait.reason == .awaitingLease)
        guard case .failed(let error) = pod.sync.syncOnce() else { Issue.record("must fail"); return }
        #expect("\(error)".contains("127.0.0.1:\(port)"))
        #expect(pod.table.clusterSyncState == .unavailable)
        guard case .rejected(let no) = pod.table.acquire([QuotaCharge(rpm, cost: 1)], worker: 0, onLeasePending: .wait) else {
            Issue.record("fail-closed must reject"); return
        }
        #expect(no.reason == .clusterSyncUnavailable && no.retryAfterSeconds == 1)
        guard case .failed(.backingOff) = pod.sync.syncOnce() else { Issue.record("the next round waits out the backoff"); return }
    }

    @Test func withoutRedisTheLoopOnlyCollectsGarbage() throws {
        let (_, pods, _) = try cluster(nil)
        let local = QuotaLimit(LimitDefinition(name: "rpm", unit: .requests, limit: 5, window: .rolling(periodSeconds: 60)), scope: "key:k")!
        #expect(pods[0].sync.syncOnce() == .disabled)
        #expect(pods[0].table.clusterSyncState == QuotaTable.ClusterSyncState.none)
        #expect(pods[0].spend(local, 1) != nil)
        #expect(pods[0].sync.collectGarbage(unixNanoseconds: QuotaClock.unixNanoseconds() + 3_600 * 1_000_000_000) == 1)
    }

    @Test func theLoopThreadLeasesOnDemand() throws {
        let redis = try RedisServerFixture()
        let (_, pods, _) = try cluster(redis)
        pods[0].sync.start()
        defer { pods[0].sync.stop() }
        let began = Date()
        var admitted = false
        while !admitted && Date().timeIntervalSince(began) < 5 {
            if case .admitted = pods[0].table.acquire([QuotaCharge(budget, cost: 10)], worker: 0, onLeasePending: .wait) { admitted = true } else { usleep(1_000) }
        }
        #expect(admitted)
        print("first lease on demand after \(Int(Date().timeIntervalSince(began) * 1_000)) ms")
        #expect(pods[0].table.statistic(.redisRoundTrips) > 0)
    }
}
