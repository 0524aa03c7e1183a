import Foundation
import Logging
import SharedState
import Testing
import TollgateTesting
@testable import QuotaCluster

@Suite struct StrictQuotaCheckTests {
    @Test func calendarBudgetIsExactAcrossPodsAndRefunds() throws {
        let redis = try RedisServerFixture()
        let settings = QuotaSyncSettings(redis: redis.endpoint, keyPrefix: "strict:\(UUID().uuidString):")
        let budget = QuotaLimit(LimitDefinition(name: "usd", unit: .microUSD, limit: 1_000, window: .calendar(.day, timeZone: "UTC"),
                                                sharing: .clusterFailClosed, strict: true), scope: "team:s")!
        let podA = StrictQuotaCheck(endpoint: redis.endpoint, settings: settings)
        let podB = StrictQuotaCheck(endpoint: redis.endpoint, settings: settings)
        var admitted: UInt64 = 0
        for i in 0..<20 {
            let d = try (i % 2 == 0 ? podA : podB).consume(budget, cost: 100)
            if d.admitted { admitted += 100 }
        }
        #expect(admitted == 1_000)
        let refused = try podA.consume(budget, cost: 1)
        #expect(!refused.admitted && refused.remaining == 0 && (refused.retryAfterNanoseconds ?? 0) > 0)
        // Settlements below the estimate give the difference back: the budget is spent to the unit.
        for _ in 0..<4 { try podB.adjust(budget, by: -75) }
        var more: UInt64 = 0
        while try podA.consume(budget, cost: 25).admitted { more += 25 }
        #expect(more == 300)
        try podA.adjust(budget, by: 40)  // used more than estimated: charged even past the limit
        try podA.adjust(budget, by: -2_000)
        #expect(try podA.consume(budget, cost: 1_000).admitted, "a refund never takes the count below zero")
        #expect(try podA.consume(budget, cost: 5_000).retryAfterNanoseconds == nil)
    }

    @Test func rollingLimitRunsGCRAInRedisAndRefunds() throws {
        let redis = try RedisServerFixture()
        let settings = QuotaSyncSettings(redis: redis.endpoint, keyPrefix: "strict:\(UUID().uuidString):")
        let tpm = QuotaLimit(LimitDefinition(name: "tpm", unit: .tokens, limit: 600, window: .rolling(periodSeconds: 60),
                                             sharing: .clusterFailClosed, strict: true), scope: "key:s")!
        let check = StrictQuotaCheck(endpoint: redis.endpoint, settings: settings)
        let results = try (0..<7).map { _ in try check.consume(tpm, cost: 100) }
        #expect(results.map(\.admitted) == [true, true, true, true, true, true, false])
        let retry = try #require(results[6].retryAfterNanoseconds)
        #expect(retry > 9_000_000_000 && retry <= 10_000_000_000)  // 100 tokens at 100 ms each
        // Each of the six used 40 tokens, not 100: 360 come back.
        for _ in 0..<6 { try check.adjust(tpm, by: -60) }
        var more = 0
        while try check.consume(tpm, cost: 100).admitted { more += 1 }
        #expect(more == 3)
        #expect(try check.consume(tpm, cost: 601).retryAfterNanoseconds == nil)
        try redis.kill()
        #expect(throws: RedisClientError.self) { try check.consume(tpm, cost: 1) }
    }
}
