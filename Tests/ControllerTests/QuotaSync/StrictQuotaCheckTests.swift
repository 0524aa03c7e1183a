import Foundation
import Logging
import SharedState
import Testing
import TollgateTesting
@testable import QuotaCluster

@Suite struct StrictQuotaCheckTests {
    @Test func calendarBudgetIsExactAcrossPodsAndCountsSyncedConsumption() throws {
        let redis = try RedisServerFixture()
        let settings = QuotaSyncSettings(redis: redis.endpoint, keyPrefix: "strict:\(UUID().uuidString):")
        let budget = QuotaLimit(LimitDefinition(name: "usd", unit: .microUSD, limit: 1_000, window: .calendar(.day, timeZone: "UTC"),
                                                sharing: .clusterFailClosed), scope: "team:s")!
        let podA = StrictQuotaCheck(endpoint: redis.endpoint, settings: settings)
        let podB = StrictQuotaCheck(endpoint: redis.endpoint, settings: settings)
        // A third pod spends through the ordinary sync; strict checks see it.
        let dir = try TempDirectory()
        let table = try QuotaTable.create(path: dir.file("c.shm"), capacity: 64, workerSlots: 1)
        let sync = QuotaSync(table: table, settings: settings, logger: Logger(label: "test"))
        _ = table.acquire([QuotaCharge(budget, cost: 300)], worker: 0)
        _ = sync.syncOnce()

        var admitted: UInt64 = 0
        for i in 0..<20 {
            let d = try (i % 2 == 0 ? podA : podB).consume(budget, cost: 100)
            if d.admitted { admitted += 100 }
        }
        #expect(admitted == 700)
        let refused = try podA.consume(budget, cost: 1)
        #expect(!refused.admitted && refused.remaining == 0 && (refused.retryAfterNanoseconds ?? 0) > 0)
        try podB.adjust(budget, by: -50)  // a settlement below the estimate
        #expect(try podA.consume(budget, cost: 50).admitted)
        #expect(try podA.consume(budget, cost: 5_000).retryAfterNanoseconds == nil)
        // The sync charges the strict spending into the third pod's table as foreign use.
        _ = sync.syncOnce()
        #expect(table.peek(budget).remaining == 0)
    }

    @Test func rollingLimitRunsGCRAInRedis() throws {
        let redis = try RedisServerFixture()
        let settings = QuotaSyncSettings(redis: redis.endpoint, keyPrefix: "strict:\(UUID().uuidString):")
        let rpm = QuotaLimit(LimitDefinition(name: "rpm", unit: .requests, limit: 5, window: .rolling(periodSeconds: 60),
                                             sharing: .clusterFailClosed), scope: "key:s")!
        let check = StrictQuotaCheck(endpoint: redis.endpoint, settings: settings)
        let results = try (0..<7).map { _ in try check.consume(rpm, cost: 1) }
        #expect(results.map(\.admitted) == [true, true, true, true, true, false, false])
        let retry = try #require(results[5].retryAfterNanoseconds)
        #expect(retry > 11_000_000_000 && retry <= 12_000_000_000)  // one emission interval, 12 s
        #expect(try check.consume(rpm, cost: 6).retryAfterNanoseconds == nil)
        try redis.kill()
        #expect(throws: RedisClientError.self) { try check.consume(rpm, cost: 1) }
    }
}
