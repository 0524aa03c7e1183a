import Foundation
import SharedState
import Testing
import TollgateTesting

/// The supervisor's side of the quota table: it creates `quota.shm` in the run directory, and
/// a worker that dies gets its in-flight (concurrency) share released before it is respawned.
@Suite struct QuotaWorkerDeathLiveTests {
    @Test func aDeadWorkersInFlightQuotaIsReleased() throws {
        let h = try GatewayHarness(workers: 2)
        guard let gateway = h.gateway else { return }
        let table = try QuotaTable.open(path: RunPaths(runDirectory: h.dir.file("run")).quotaTable)
        #expect(table.workerColumns == 2)
        let inflight = QuotaLimit(LimitDefinition(name: "conc", unit: .requests, limit: 5, window: .concurrent), scope: "live")!
        // Stand-ins for two requests worker 1 is serving when it dies, and one of worker 0's.
        for worker in [1, 1, 0] {
            guard case .admitted = table.acquire([QuotaCharge(inflight, cost: 1)], worker: worker) else {
                Issue.record("must pass"); return
            }
        }
        #expect(table.peek(inflight).remaining == 2)
        let victim = try #require(childProcesses(of: gateway.pid).first { $0.cmdline.contains(" worker --id 1 ") })
        kill(victim.pid, SIGKILL)
        _ = try gateway.waitForOutput(containing: "released a dead worker's concurrency slots", timeout: 5)
        #expect(table.peek(inflight).remaining == 4, "worker 0's request is still in flight")
    }
}
