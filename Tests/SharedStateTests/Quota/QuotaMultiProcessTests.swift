import Foundation
import Testing
import TollgateTesting
@testable import SharedState

/// Several real processes (`tollgate debug quota-hammer`) charge the same slots of one table
/// file until a shared budget is spent: any lost update or double admission shows up as a
/// total that is not exactly the budget.
@Suite struct QuotaMultiProcessTests {
    /// The limits `tollgate debug quota-hammer` charges (HammerLimits in Sources/tollgate).
    enum HammerLimits {
        static func all(budget: UInt64, inflight: UInt64) -> [QuotaLimit] {
            [
                QuotaLimit(LimitDefinition(name: "budget", unit: .requests, limit: budget, window: .calendar(.day, timeZone: "UTC")), scope: "hammer")!,
                QuotaLimit(LimitDefinition(name: "gcra", unit: .requests, limit: budget, window: .rolling(periodSeconds: 400 * 86_400)), scope: "hammer")!,
                QuotaLimit(LimitDefinition(name: "count", unit: .requests, limit: 1 << 61, window: .calendar(.day, timeZone: "UTC")), scope: "hammer")!,
                QuotaLimit(LimitDefinition(name: "inflight", unit: .requests, limit: inflight, window: .concurrent), scope: "hammer")!,
            ]
        }
    }

    let budget: UInt64 = 20_000

    private func hammer(_ table: String, worker: Int, budget: UInt64, extra: [String] = []) throws -> ChildProcess {
        try ChildProcess(executable: TestBinary.tollgatePath,
                         arguments: ["debug", "quota-hammer", "--table", table, "--worker", String(worker), "--budget", String(budget), "--inflight", "3"] + extra)
    }

    private func admitted(_ child: ChildProcess) throws -> UInt64 {
        #expect(try child.waitForExit(timeout: 60) == 0, "\(child.output)")
        let line = try child.waitForOutput(containing: "admitted=", timeout: 1)
        let value = line.split(separator: " ").first { $0.hasPrefix("admitted=") }?.dropFirst("admitted=".count)
        return UInt64(value ?? "") ?? .max
    }

    @Test func processesHammeringOneSlotSpendTheBudgetExactly() throws {
        let dir = try TempDirectory()
        let table = try QuotaTable.create(path: dir.file("quota.shm"), capacity: 64, workerSlots: 4)
        let children = try (0..<4).map { try hammer(table.path, worker: $0, budget: budget) }
        let total = try children.map(admitted).reduce(0, +)
        #expect(total == budget)
        let limits = HammerLimits.all(budget: budget, inflight: 3)
        #expect(table.peek(limits[0]).remaining == 0)
        #expect(table.peek(limits[1]).remaining == 0)
        #expect(table.peek(limits[2]).limit - table.peek(limits[2]).remaining == budget)  // every admission counted once
        #expect(table.peek(limits[3]).remaining == 3)  // every concurrency slot given back
    }

    @Test func aProcessKilledMidRunWedgesNobody() throws {
        let dir = try TempDirectory()
        let table = try QuotaTable.create(path: dir.file("quota.shm"), capacity: 64, workerSlots: 4)
        // A larger budget, so the survivors are still busy when the victim dies.
        let budget = self.budget * 10
        let victim = try hammer(table.path, worker: 3, budget: budget, extra: ["--pause-microseconds", "20", "--hold-one"])
        _ = try victim.waitForOutput(containing: "started", timeout: 20)
        let survivors = try (0..<3).map { try hammer(table.path, worker: $0, budget: budget) }
        for survivor in survivors { _ = try survivor.waitForOutput(containing: "started", timeout: 20) }
        victim.signal(SIGKILL)
        #expect(try victim.waitForExit(timeout: 10) == 128 + SIGKILL)
        let survivorTotal = try survivors.map(admitted).reduce(0, +)
        let limits = HammerLimits.all(budget: budget, inflight: 3)
        let counted = table.peek(limits[2]).limit - table.peek(limits[2]).remaining
        #expect(counted == budget, "the budget is spent exactly, whoever spent it")
        #expect(survivorTotal <= budget && survivorTotal > 0)
        // The victim died holding a concurrency slot (and maybe a second one mid-request).
        #expect(table.peek(limits[3]).remaining < 3)
        #expect(table.releaseAll(worker: 3) >= 1)
        #expect(table.peek(limits[3]).remaining == 3)
    }
}
