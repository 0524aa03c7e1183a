import ArgumentParser
import Foundation
import SharedState

// The quota tooling of `tollgate debug` (DebugCommand.swift): `quota-hammer` (one of several
// processes a multi-process test spawns against one table file) and `quota-bench` (the cost of
// one admission decision).

struct QuotaHammer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quota-hammer",
        abstract: "Acquire and settle on shared slots until the budget is spent; print the admitted count.")

    @Option(help: "The quota table file (created by the test).") var table: String
    @Option(help: "This process's worker column.") var worker: Int
    @Option(help: "The budget (also the GCRA limit) all processes share.") var budget: UInt64
    @Option(help: "The concurrency limit all processes share.") var inflight: UInt64 = 64
    @Option(help: "Microseconds to sleep between requests (to be killed mid-run).") var pauseMicroseconds: UInt32 = 0
    @Option(help: "Microseconds to hold each admission before settling (so processes overlap).") var holdMicroseconds: UInt32 = 0
    @Flag(help: "Hold one concurrency slot forever (it dies with the process).") var holdOne = false

    func run() throws {
        let quota = try QuotaTable.open(path: table)
        let limits = QuotaHammerLimits.all(budget: budget, inflight: inflight)
        let charges = limits.map { QuotaCharge($0, cost: 1) }
        var held: QuotaReservation?
        if holdOne, case .admitted(let r) = quota.acquire([charges[3]], worker: worker) { held = r }
        FileHandle.standardOutput.write(Data("started worker=\(worker)\n".utf8))
        var admitted = 0
        var concurrencyRefusals = 0
        var maxInflight: UInt64 = 0
        while true {
            switch quota.acquire(charges, worker: worker, onTableFull: .failClosed) {
            case .admitted(let reservation):
                admitted += 1
                if case .admitted(let witness) = quota.acquire([QuotaCharge(QuotaHammerLimits.witness, cost: 1)], worker: worker),
                   let status = witness.statuses.first {
                    maxInflight = max(maxInflight, status.limit - status.remaining)
                    if holdMicroseconds > 0 { usleep(holdMicroseconds) }
                    quota.settle(witness, actual: QuotaUsage(requests: 0))
                }
                quota.settle(reservation, actual: QuotaUsage(requests: 1))
            case .rejected(let no) where no.status.name == "inflight":
                concurrencyRefusals += 1  // other processes hold the slots; try again
            case .rejected(let no):
                guard no.status.name == "budget" || no.status.name == "gcra" else {
                    throw ValidationError("unexpected rejection by \(no.status.name): \(no.reason)")
                }
                withExtendedLifetime(held) {}
                FileHandle.standardOutput.write(Data("admitted=\(admitted) concurrency_refusals=\(concurrencyRefusals) max_inflight=\(maxInflight)\n".utf8))
                return
            }
            if pauseMicroseconds > 0 { usleep(pauseMicroseconds) }
        }
    }
}

struct QuotaBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quota-bench", abstract: "Time one admission decision (acquire + settle) on a private table.")

    @Option(help: "Decisions to time.") var iterations = 2_000_000

    func run() throws {
        let path = NSTemporaryDirectory() + "tollgate-quota-bench-\(getpid()).shm"
        defer { unlink(path) }
        let table = try QuotaTable.create(path: path, capacity: 16_384, workerSlots: 1)
        let huge: UInt64 = 1 << 60
        let rpm = QuotaLimit(LimitDefinition(name: "rpm", unit: .requests, limit: huge, window: .rolling(periodSeconds: 60)), scope: "key:bench")!
        let tpm = QuotaLimit(LimitDefinition(name: "tpm", unit: .tokens, limit: huge, window: .rolling(periodSeconds: 60), sharing: .clusterFailOpen), scope: "key:bench")!
        let budget = QuotaLimit(LimitDefinition(name: "usd", unit: .microUSD, limit: huge, window: .calendar(.month, timeZone: "UTC")), scope: "team:bench")!
        let inflight = QuotaLimit(LimitDefinition(name: "conc", unit: .requests, limit: huge, window: .concurrent), scope: "key:bench")!
        let cases: [(String, [QuotaCharge])] = [
            ("1 limit (GCRA requests/min)", [QuotaCharge(rpm, cost: 1)]),
            ("4 limits (rpm, tpm cluster-leased, monthly USD budget, concurrency)",
             [QuotaCharge(rpm, cost: 1), QuotaCharge(tpm, cost: 1_000), QuotaCharge(budget, cost: 5_000), QuotaCharge(inflight, cost: 1)]),
        ]
        let usage = QuotaUsage(requests: 1, tokens: 800, microUSD: 4_000)
        // The cluster limit spends a lease: its first use takes credit, then a lease as large
        // as the controller's would be is put in the slot (no Redis here).
        _ = table.acquire([QuotaCharge(tpm, cost: 1)], worker: 0)
        for slot in table.leaseSlots() {
            table.applyLease(slot, .init(grant: 1 << 58, clusterRemaining: huge, share: huge, refusedUntil: 0, refillBelow: 0), now: table.now())
        }
        for (name, charges) in cases {
            for _ in 0..<10_000 { decide(table, charges, usage) }  // warm-up: slots claimed, caches hot
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<iterations { decide(table, charges, usage) }
            let ns = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(iterations)
            print(String(format: "%@: %.0f ns per admission (acquire + settle)", name, ns))
        }
    }

    @inline(never)
    private func decide(_ table: QuotaTable, _ charges: [QuotaCharge], _ usage: QuotaUsage) {
        guard case .admitted(let r) = table.acquire(charges, worker: 0) else { fatalError("bench limits must never reject") }
        table.settle(r, actual: usage)
    }
}
