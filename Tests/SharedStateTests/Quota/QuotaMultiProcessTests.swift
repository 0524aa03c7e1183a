import Foundation
import Testing
import TollgateTesting
@testable import SharedState

/// Several real processes (`tollgate debug quota-hammer`) charge the same slots of one table
/// file until a shared budget is spent: any lost update or double admission shows up as a
/// total that is not exactly the budget.
@Suite struct QuotaMultiProcessTests {
    let budget: UInt64 = 20_000

    private func hammer(_ table: String, worker: Int, budget: UInt64, extra: [String] = []) throws -> ChildProcess {
        try ChildProcess(executable: TestBinary.tollgatePath,
                         arguments: ["debug", "quota-hammer", "--table", table, "--worker", String(worker), "--budget", String(budget), "--inflight", "3"] + extra)
    }

    /// The numbers a finished hammer printed: `admitted=N … max_inflight=M`.
    private func report(_ child: ChildProcess) throws -> (admitted: UInt64, maxInflight: UInt64) {
        #expect(try child.waitForExit(timeout: 60) == 0, "\(child.output)")
        let line = try child.waitForOutput(containing: "admitted=", timeout: 1)
        func field(_ name: String) throws -> UInt64 {
            let value = line.split(separator: " ").first { $0.hasPrefix(name + "=") }?.dropFirst(name.count + 1)
            guard let number = value.flatMap({ UInt64($0) }) else { throw ChildProcessError("no \(name) in \"\(line)\"") }
            return number
        }
        return (try field("admitted"), try field("max_inflight"))
    }

    @Test func processesHammeringOneSlotSpendTheBudgetExactly() throws {
        let dir = try TempDirectory()
        let table = try QuotaTable.create(path: dir.file("quota.shm"), capacity: 64, workerSlots: 4)
        // Each process holds every admission for a moment, so they overlap even on two cores.
        let children = try (0..<4).map { try hammer(table.path, worker: $0, budget: budget, extra: ["--hold-microseconds", "10"]) }
        let reports = try children.map(report)
        #expect(reports.map(\.admitted).reduce(0, +) == budget)
        // Four processes competing for three concurrency slots never held more than three.
        #expect(reports.map(\.maxInflight).max() ?? 0 <= 3)
        #expect(reports.map(\.maxInflight).max() ?? 0 >= 2, "the processes did overlap")
        let limits = QuotaHammerLimits.all(budget: budget, inflight: 3)
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
        let survivorTotal = try survivors.map(report).map(\.admitted).reduce(0, +)
        let limits = QuotaHammerLimits.all(budget: budget, inflight: 3)
        let counted = table.peek(limits[2]).limit - table.peek(limits[2]).remaining
        #expect(counted == budget, "the budget is spent exactly, whoever spent it")
        #expect(survivorTotal <= budget && survivorTotal > 0)
        // The victim died holding a concurrency slot (and maybe a second one mid-request).
        #expect(table.peek(limits[3]).remaining < 3)
        #expect(table.releaseAll(worker: 3) >= 1)
        #expect(table.peek(limits[3]).remaining == 3)
    }
}
