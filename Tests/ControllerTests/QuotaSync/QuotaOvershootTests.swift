import Foundation
import Logging
import SharedState
import Synchronization
import Testing
import TollgateTesting
@testable import QuotaCluster

/// Measures the documented overshoot bound: three pods with running sync loops spend one
/// cluster budget concurrently at a known rate; the cluster may admit at most about
/// (pods − 1) × rate × (interval + latency) beyond the budget (plus the first-use lag of one
/// round), never less than the budget.
@Suite struct QuotaOvershootTests {
    @Test func threePodsOvershootWithinTheBound() throws {
        let redis = try RedisServerFixture()
        let dir = try TempDirectory()
        let interval = 50
        let settings = QuotaSyncSettings(redis: redis.endpoint, intervalMilliseconds: interval, keyPrefix: "overshoot:\(UUID().uuidString):")
        let budgetUnits: UInt64 = 600
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
        let begin = DispatchTime.now().uptimeNanoseconds
        for (i, (table, _)) in pods.enumerated() {
            Thread.detachNewThread {
                // About one unit per millisecond per pod, until the pod's own view says no.
                while case .admitted = table.acquire([QuotaCharge(budget, cost: 1)], worker: 0) {
                    admitted.withLock { $0[i] += 1 }
                    usleep(1_000)
                }
                done.signal()
            }
        }
        for _ in pods { #expect(done.wait(timeout: .now() + 20) == .success) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9
        let total = admitted.withLock { $0.reduce(0, +) }
        let perPodRate = Double(total) / 3 / seconds  // measured units per second per pod
        // Interval plus a generous allowance for Redis latency and scheduling on a busy CI box,
        // and one more interval for each pod's first use of the key.
        let lag = Double(2 * interval + 100) / 1_000
        let bound = Double(budgetUnits) + 2 * perPodRate * lag
        print("overshoot: \(Int(total) - Int(budgetUnits)) units over a budget of \(budgetUnits) (rate \(Int(perPodRate))/s per pod, bound \(Int(bound) - Int(budgetUnits)))")
        #expect(total >= budgetUnits)
        #expect(Double(total) <= bound)
        // After the loops caught up every pod sees the whole cluster's spending.
        Thread.sleep(forTimeInterval: Double(3 * interval) / 1_000)
        for (table, _) in pods { #expect(table.peek(budget).remaining == 0) }
    }
}
