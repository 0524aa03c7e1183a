import Foundation
import Testing
@testable import SharedState

/// A table in a private file, removed when the test ends.
final class TableFixture {
    let path = NSTemporaryDirectory() + "tg-quota-\(UUID().uuidString).shm"
    let table: QuotaTable

    init(capacity: Int = 1_024, workers: Int = 2) throws {
        table = try QuotaTable.create(path: path, capacity: capacity, workerSlots: workers)
    }

    deinit { unlink(path) }
}

func limit(_ name: String, _ unit: LimitDefinition.Unit, _ n: UInt64, _ window: LimitDefinition.Window,
           _ sharing: LimitDefinition.Sharing = .local, scope: String = "key:a") -> QuotaLimit {
    QuotaLimit(LimitDefinition(name: name, unit: unit, limit: n, window: window, sharing: sharing), scope: scope)!
}

func limit(_ name: String, _ n: UInt64, _ window: LimitDefinition.Window,
           _ sharing: LimitDefinition.Sharing = .local, scope: String = "key:a") -> QuotaLimit {
    limit(name, .requests, n, window, sharing, scope: scope)
}

let sec: UInt64 = 1_000_000_000

@Suite struct QuotaTableTests {
    let t0 = QuotaClock.unixNanoseconds()

    @Test func acquireIsAllOrNothing() throws {
        let f = try TableFixture()
        let rpm = limit("rpm", 10, .rolling(periodSeconds: 60))
        let tpm = limit("tpm", .tokens, 1_000, .rolling(periodSeconds: 60))
        guard case .admitted(let r1) = f.table.acquire([QuotaCharge(rpm, cost: 1), QuotaCharge(tpm, cost: 900)], worker: 0, unixNanoseconds: t0) else {
            Issue.record("first request must pass"); return
        }
        #expect(r1.statuses.map(\.remaining) == [9, 100])
        // The token limit refuses; the request limit must be refunded.
        guard case .rejected(let no) = f.table.acquire([QuotaCharge(rpm, cost: 1), QuotaCharge(tpm, cost: 200)], worker: 0, unixNanoseconds: t0) else {
            Issue.record("second request must be refused"); return
        }
        #expect(no.index == 1 && no.reason == .limitExceeded && no.status.name == "tpm" && no.status.unit == .tokens)
        #expect(no.status.remaining == 100 && no.status.limit == 1_000)
        #expect(no.retryAfterNanoseconds == 6 * sec)  // 100 tokens short at 60 ms each
        #expect(no.retryAfterSeconds == 6)
        #expect(f.table.peek(rpm, unixNanoseconds: t0).remaining == 9)
    }

    @Test func settleRefundsOrChargesTheDifferenceExactlyOnce() throws {
        let f = try TableFixture()
        let tpm = limit("tpm", .tokens, 1_000, .rolling(periodSeconds: 60))
        let budget = limit("usd-day", .microUSD, 5_000, .calendar(.day, timeZone: "UTC"))
        guard case .admitted(let r) = f.table.acquire([QuotaCharge(tpm, cost: 500), QuotaCharge(budget, cost: 2_000)], worker: 1, unixNanoseconds: t0) else {
            Issue.record("must pass"); return
        }
        #expect(f.table.settle(r, actual: QuotaUsage(tokens: 120, microUSD: 2_600), unixNanoseconds: t0))
        #expect(f.table.peek(tpm, unixNanoseconds: t0).remaining == 880)
        #expect(f.table.peek(budget, unixNanoseconds: t0).remaining == 2_400)
        #expect(!f.table.settle(r, actual: QuotaUsage(tokens: 0, microUSD: 0), unixNanoseconds: t0))
        #expect(r.isSettled)
        #expect(f.table.peek(budget, unixNanoseconds: t0).remaining == 2_400)
    }

    @Test func budgetOvershootIsAtMostOneReservation() throws {
        let f = try TableFixture()
        let budget = limit("usd-month", .microUSD, 10_000, .calendar(.month, timeZone: "Europe/Berlin"))
        var admitted = 0
        // Each request reserves 1 000 and really costs 1 500: the reservation is checked,
        // the settlement charges the rest even past the limit.
        for _ in 0..<20 {
            if case .admitted(let r) = f.table.acquire([QuotaCharge(budget, cost: 1_000)], worker: 0, unixNanoseconds: t0) {
                admitted += 1
                f.table.settle(r, actual: QuotaUsage(microUSD: 1_500), unixNanoseconds: t0)
            }
        }
        #expect(admitted == 7)  // 6 × 1 500 = 9 000 leaves room for a 1 000 reservation
        guard case .rejected(let no) = f.table.acquire([QuotaCharge(budget, cost: 1)], worker: 0, unixNanoseconds: t0) else {
            Issue.record("budget is spent"); return
        }
        #expect(no.status.unit == .microUSD && no.status.remaining == 0)
        #expect(no.retryAfterNanoseconds == no.status.resetAfterNanoseconds && no.status.resetAfterNanoseconds > 0)
    }

    @Test func calendarWindowsStartFresh() throws {
        let f = try TableFixture()
        let budget = limit("usd-day", .microUSD, 100, .calendar(.day, timeZone: "UTC"))
        let day = 86_400 * sec
        let midnight = t0 / day * day + day
        guard case .admitted = f.table.acquire([QuotaCharge(budget, cost: 100)], worker: 0, unixNanoseconds: midnight - 1) else {
            Issue.record("must pass"); return
        }
        guard case .rejected(let no) = f.table.acquire([QuotaCharge(budget, cost: 1)], worker: 0, unixNanoseconds: midnight - 1) else {
            Issue.record("must be spent"); return
        }
        #expect(no.retryAfterNanoseconds == 1)
        guard case .admitted = f.table.acquire([QuotaCharge(budget, cost: 100)], worker: 0, unixNanoseconds: midnight) else {
            Issue.record("a new day is a new window"); return
        }
    }

    @Test func reloadKeepsCountersOfUnchangedDefinitionsOnly() throws {
        let f = try TableFixture()
        let before = limit("rpm", 5, .rolling(periodSeconds: 60))
        _ = f.table.acquire([QuotaCharge(before, cost: 3)], worker: 0, unixNanoseconds: t0)
        let sameAgain = limit("rpm", 5, .rolling(periodSeconds: 60))
        #expect(f.table.peek(sameAgain, unixNanoseconds: t0).remaining == 2)
        let changed = limit("rpm", 6, .rolling(periodSeconds: 60))
        #expect(f.table.peek(changed, unixNanoseconds: t0).remaining == 6)
        let otherScope = limit("rpm", 5, .rolling(periodSeconds: 60), scope: "key:b")
        #expect(f.table.peek(otherScope, unixNanoseconds: t0).remaining == 5)
    }

    @Test func tableFullFailsOpenOrClosedAndCounts() throws {
        let f = try TableFixture(capacity: 16)
        var claimed = 0
        for i in 0..<64 {
            if case .admitted(let r) = f.table.acquire([QuotaCharge(limit("rps", 1, .rolling(periodSeconds: 1), scope: "k\(i)"), cost: 1)],
                                                       worker: 0, onTableFull: .failClosed, unixNanoseconds: t0),
               !r.statuses.isEmpty {
                claimed += 1
            }
        }
        #expect(claimed == 16)
        #expect(f.table.statistic(.slotsInUse) == 16)
        #expect(f.table.statistic(.tableFullRejected) == 48)
        let extra = limit("rps", 1, .rolling(periodSeconds: 1), scope: "another")
        guard case .rejected(let no) = f.table.acquire([QuotaCharge(extra, cost: 1)], worker: 0, onTableFull: .failClosed, unixNanoseconds: t0) else {
            Issue.record("fail-closed must reject"); return
        }
        #expect(no.reason == .tableFull && no.retryAfterSeconds == 1)
        guard case .admitted(let r) = f.table.acquire([QuotaCharge(extra, cost: 1)], worker: 0, onTableFull: .failOpen, unixNanoseconds: t0) else {
            Issue.record("fail-open must admit"); return
        }
        #expect(r.statuses.isEmpty)
        #expect(f.table.statistic(.tableFullAdmitted) == 1)
    }

    @Test func concurrencyLimitAndDeadWorkerRelease() throws {
        let f = try TableFixture(workers: 3)
        let inflight = limit("concurrent", 3, .concurrent)
        var held: [QuotaReservation] = []
        for worker in [0, 1, 1] {
            guard case .admitted(let r) = f.table.acquire([QuotaCharge(inflight, cost: 1)], worker: worker, unixNanoseconds: t0) else {
                Issue.record("3 in flight are allowed"); return
            }
            held.append(r)
        }
        guard case .rejected(let no) = f.table.acquire([QuotaCharge(inflight, cost: 1)], worker: 2, unixNanoseconds: t0) else {
            Issue.record("the 4th must wait"); return
        }
        #expect(no.status.remaining == 0)
        f.table.settle(held[0], actual: QuotaUsage())
        #expect(f.table.peek(inflight).remaining == 1)
        // Worker 1 dies with two requests in flight; the supervisor releases them.
        #expect(f.table.releaseAll(worker: 1) == 2)
        #expect(f.table.peek(inflight).remaining == 3)
        #expect(f.table.releaseAll(worker: 1) == 0)
    }

    @Test func openRefusesOtherFiles() throws {
        let f = try TableFixture()
        let reopened = try QuotaTable.open(path: f.path)
        #expect(reopened.capacity == 1_024 && reopened.workerColumns == 2 && reopened.podID == f.table.podID && reopened.podID != 0)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: f.path))
        bytes[8] = 1  // the layout before leases
        let other = f.path + ".v1"
        defer { unlink(other) }
        try bytes.write(to: URL(fileURLWithPath: other))
        #expect(throws: ControlBlock.Error.unsupportedLayout(path: other, version: 1)) { try QuotaTable.open(path: other) }
        try bytes.prefix(100).write(to: URL(fileURLWithPath: other))
        #expect(throws: ControlBlock.Error.self) { try QuotaTable.open(path: other) }
    }

    @Test func invalidDefinitionsAreRefused() {
        #expect(LimitDefinition(name: "x", unit: .requests, limit: 0, window: .concurrent).problem != nil)
        #expect(LimitDefinition(name: "x", unit: .requests, limit: 1, window: .calendar(.day, timeZone: "Nowhere/City")).problem != nil)
        #expect(LimitDefinition(name: "x", unit: .requests, limit: 1, window: .concurrent, sharing: .clusterFailOpen).problem != nil)
        #expect(LimitDefinition(name: "x", unit: .requests, limit: 1, window: .rolling(periodSeconds: 0)).problem != nil)
        #expect(QuotaLimit(LimitDefinition(name: "x", unit: .requests, limit: 0, window: .concurrent), scope: "s") == nil)
    }
}

