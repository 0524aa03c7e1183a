import Foundation
import Logging
import SharedState
import Synchronization
import Testing
import TollgateTesting
@testable import QuotaCluster

/// The lease bound, measured: three pods with running lease loops spend one cluster budget as
/// fast as they can. Everything admitted was granted by Redis first, so the cluster admits at
/// most the budget, whatever the arrival rate, and (with slices shrinking to the request's
/// cost) spends it to within one request per pod.
@Suite struct QuotaOvershootTests {
    @Test func threePodsNeverOvershootAndSpendTheBudget() throws {
        let redis = try RedisServerFixture()
        let dir = try TempDirectory()
        let settings = QuotaSyncSettings(redis: redis.endpoint, intervalMilliseconds: 50, keyPrefix: "overshoot:\(UUID().uuidString):")
        let budgetUnits: UInt64 = 3_000
        let budget = QuotaLimit(LimitDefinition(name: "usd", unit: .microUSD, limit: budgetUnits, window: .calendar(.day, timeZone: "UTC"),
                                                sharing: .clusterFailOpen), scope: "team:o")!
        let pods = try (0..<3).map { i -> (QuotaTable, QuotaSync) in
            let table = try QuotaTable.create(path: dir.file("p\(i).shm"), capacity: 64, workerSlots: 1)
            return (table, QuotaSync(table: table, settings: settings, logger: Logger(label: "pod\(i)")))
        }
        for (_, sync) in pods { sync.start() }
        defer { for (_, sync) in pods { sync.stop() } }

        let admitted = Mutex<[UInt64]>([0, 0, 0])
        let done = DispatchSemaphore(value: 0)
        for (i, (table, _)) in pods.enumerated() {
            Thread.detachNewThread {
                // No pacing at all: the arrival rate does not enter the bound. A pod stops after
                // two seconds of refusals (longer than the idle release of the others' holds).
                let deadline = Date().addingTimeInterval(15)
                var refusals = 0
                while Date() < deadline && refusals < 40 {
                    switch table.acquire([QuotaCharge(budget, cost: 1)], worker: 0, onLeasePending: .wait) {
                    case .admitted:
                        admitted.withLock { $0[i] += 1 }
                        refusals = 0
                    case .rejected(let no) where no.reason == .awaitingLease:
                        usleep(200)
                    case .rejected:
                        refusals += 1
                        usleep(50_000)
                    }
                }
                done.signal()
            }
        }
        for _ in pods { #expect(done.wait(timeout: .now() + 30) == .success) }
        let total = admitted.withLock { $0.reduce(0, +) }
        let trips = pods.map { $0.0.statistic(.redisRoundTrips) }.reduce(0, +)
        print("three pods, unpaced, \(budgetUnits)-unit budget: \(total) admitted (\(admitted.withLock { $0 })), \(trips) Redis round trips")
        #expect(total <= budgetUnits)
        #expect(total >= budgetUnits - 3)
    }
}
