import Foundation
import Testing
@testable import SharedState

/// Leased (cluster) limits in the table alone: workers spend an allowance the controller puts
/// there; without one they wait, take one credit, or follow the limit's fail mode.
@Suite struct QuotaLeaseTableTests {
    let t0 = QuotaClock.unixNanoseconds()

    func lease(_ f: TableFixture, _ limit: QuotaLimit, grant: Int64, remaining: UInt64 = 0, share: UInt64 = 0,
               refusedFor: UInt64 = 0, refillBelow: Int64 = 0) throws -> QuotaTable.LeaseSlot {
        let slot = try #require(f.table.leaseSlots().first { $0.key == limit.slotKey(unixNanoseconds: t0).key })
        let now = f.table.tableTime(unixNanoseconds: t0)
        f.table.clearDemand(slot)
        f.table.applyLease(slot, .init(grant: grant, clusterRemaining: remaining, share: share,
                                       refusedUntil: refusedFor == 0 ? 0 : now + refusedFor, refillBelow: refillBelow), now: now)
        return slot
    }

    @Test func workersSpendTheLeaseAndWaitWithoutOne() throws {
        let f = try TableFixture()
        let rpm = limit("rpm", 100, .rolling(periodSeconds: 60), .clusterFailClosed)
        #expect(rpm.isLeased)
        guard case .rejected(let wait) = f.table.acquire([QuotaCharge(rpm, cost: 1)], worker: 0, onLeasePending: .wait, unixNanoseconds: t0) else {
            Issue.record("no allowance yet: the request waits"); return
        }
        #expect(wait.reason == .awaitingLease)
        let slot = try #require(f.table.leaseSlots().first)
        #expect(f.table.leaseState(slot)?.demand == 1 && f.table.leaseDemandSequence > 0)
        _ = try lease(f, rpm, grant: 3, remaining: 90, refillBelow: 2)
        let seq = f.table.leaseDemandSequence
        guard case .admitted(let first) = f.table.acquire([QuotaCharge(rpm, cost: 1)], worker: 0, onLeasePending: .wait, unixNanoseconds: t0) else {
            Issue.record("the lease is spent locally"); return
        }
        #expect(first.statuses.first?.remaining == 92, "own allowance plus what Redis had left")
        #expect(f.table.leaseDemandSequence == seq, "still above the refill threshold")
        _ = f.table.acquire([QuotaCharge(rpm, cost: 1)], worker: 1, onLeasePending: .wait, unixNanoseconds: t0)
        #expect(f.table.leaseDemandSequence == seq + 1, "crossing the threshold asks for the next slice early")
        _ = f.table.acquire([QuotaCharge(rpm, cost: 1)], worker: 1, onLeasePending: .wait, unixNanoseconds: t0)
        guard case .rejected(let more) = f.table.acquire([QuotaCharge(rpm, cost: 1)], worker: 0, onLeasePending: .wait, unixNanoseconds: t0) else {
            Issue.record("three granted, three spent"); return
        }
        #expect(more.reason == .awaitingLease)
        #expect(f.table.leaseState(slot)?.allowance == 0 && f.table.leaseState(slot)?.consumed == 3)
        #expect(f.table.statistic(.clusterAdmitted) == 3)
    }

    @Test func settlementReturnsTheDifferenceToTheLease() throws {
        let f = try TableFixture()
        let budget = limit("usd-day", .microUSD, 10_000, .calendar(.day, timeZone: "UTC"), .clusterFailOpen)
        _ = f.table.acquire([QuotaCharge(budget, cost: 1)], worker: 0, onLeasePending: .wait, unixNanoseconds: t0)
        let slot = try lease(f, budget, grant: 1_000)
        guard case .admitted(let r) = f.table.acquire([QuotaCharge(budget, cost: 600)], worker: 0, onLeasePending: .wait, unixNanoseconds: t0) else {
            Issue.record("must pass"); return
        }
        f.table.settle(r, actual: QuotaUsage(microUSD: 150), unixNanoseconds: t0)
        #expect(f.table.leaseState(slot)?.allowance == 850 && f.table.leaseState(slot)?.consumed == 150)
        guard case .admitted(let over) = f.table.acquire([QuotaCharge(budget, cost: 800)], worker: 0, onLeasePending: .wait, unixNanoseconds: t0) else {
            Issue.record("must pass"); return
        }
        // Used more than estimated: the excess is owed and reported with the next lease call.
        f.table.settle(over, actual: QuotaUsage(microUSD: 1_000), unixNanoseconds: t0)
        #expect(f.table.leaseState(slot)?.allowance == -150 && f.table.leaseState(slot)?.consumed == 1_150)
        // A grant repays what is owed first.
        _ = try lease(f, budget, grant: 400)
        #expect(f.table.leaseState(slot)?.allowance == 250)
    }

    @Test func creditIsOneRequestAtATime() throws {
        let f = try TableFixture()
        let tpm = limit("tpm", .tokens, 10_000, .rolling(periodSeconds: 60), .clusterFailOpen)
        guard case .admitted = f.table.acquire([QuotaCharge(tpm, cost: 500)], worker: 0, onLeasePending: .credit, unixNanoseconds: t0) else {
            Issue.record("one request on credit"); return
        }
        guard case .rejected(let no) = f.table.acquire([QuotaCharge(tpm, cost: 1)], worker: 0, onLeasePending: .credit, unixNanoseconds: t0) else {
            Issue.record("a second one waits for the lease"); return
        }
        #expect(no.reason == .awaitingLease)
        let slot = try #require(f.table.leaseSlots().first)
        #expect(f.table.leaseState(slot)?.allowance == -500 && f.table.leaseState(slot)?.demand == 500)
    }

    @Test func refusedLeasesRejectWithoutAsking() throws {
        let f = try TableFixture()
        let rpm = limit("rpm", 10, .rolling(periodSeconds: 60), .clusterFailOpen)
        _ = f.table.acquire([QuotaCharge(rpm, cost: 1)], worker: 0, onLeasePending: .wait, unixNanoseconds: t0)
        _ = try lease(f, rpm, grant: 0, refusedFor: 2 * sec)
        let seq = f.table.leaseDemandSequence
        guard case .rejected(let no) = f.table.acquire([QuotaCharge(rpm, cost: 1)], worker: 0, onLeasePending: .wait, unixNanoseconds: t0) else {
            Issue.record("Redis refused: 429"); return
        }
        #expect(no.reason == .limitExceeded && no.retryAfterSeconds == 2 && no.status.remaining == 0)
        #expect(f.table.leaseDemandSequence == seq, "no demand while refused")
        guard case .rejected(let later) = f.table.acquire([QuotaCharge(rpm, cost: 1)], worker: 0, onLeasePending: .wait,
                                                          unixNanoseconds: t0 + 3 * sec) else { Issue.record("asks again"); return }
        #expect(later.reason == .awaitingLease)
        #expect(f.table.statistic(.leaseRefused) == 1)
    }

    @Test func redisDownSpendsTheLeaseThenFollowsTheFailMode() throws {
        let f = try TableFixture()
        let closed = limit("rpm", 100, .rolling(periodSeconds: 60), .clusterFailClosed)
        let open = limit("usd-day", .microUSD, 1_000, .calendar(.day, timeZone: "UTC"), .clusterFailOpen, scope: "team:t")
        _ = f.table.acquire([QuotaCharge(closed, cost: 1), QuotaCharge(open, cost: 1)], worker: 0, onLeasePending: .wait, unixNanoseconds: t0)
        _ = f.table.acquire([QuotaCharge(open, cost: 1)], worker: 0, onLeasePending: .wait, unixNanoseconds: t0)
        _ = try lease(f, closed, grant: 2)
        let openSlot = try lease(f, open, grant: 100, share: 250)
        f.table.setClusterSyncState(.unavailable)
        for _ in 0..<2 {
            guard case .admitted = f.table.acquire([QuotaCharge(closed, cost: 1)], worker: 0, onLeasePending: .wait, unixNanoseconds: t0) else {
                Issue.record("the current lease is still spent"); return
            }
        }
        guard case .rejected(let no) = f.table.acquire([QuotaCharge(closed, cost: 1)], worker: 0, onLeasePending: .wait, unixNanoseconds: t0) else {
            Issue.record("fail-closed once the lease is spent"); return
        }
        #expect(no.reason == .clusterSyncUnavailable)
        // Fail-open: the lease (100), then the local share (250), recorded as owed.
        var admitted: UInt64 = 0
        while case .admitted = f.table.acquire([QuotaCharge(open, cost: 10)], worker: 0, onLeasePending: .wait, unixNanoseconds: t0) {
            admitted += 10
            if admitted > 1_000 { break }
        }
        #expect(admitted == 350)
        #expect(f.table.leaseState(openSlot)?.allowance == -250)
        #expect(f.table.statistic(.syncUnavailableRejected) == 1)
    }

    /// A budget Redis says is used up (its remainder per pod rounds to a share of 0) stays
    /// used up while Redis is away: fail-open admits nothing beyond the lease. (An answered 0
    /// once read as "no share known" and let each pod spend the whole budget again.)
    @Test func anAnsweredShareOfZeroAdmitsNothingWhileRedisIsAway() throws {
        let f = try TableFixture()
        let open = limit("usd-day", .microUSD, 1_000, .calendar(.day, timeZone: "UTC"), .clusterFailOpen, scope: "team:t")
        _ = f.table.acquire([QuotaCharge(open, cost: 1)], worker: 0, onLeasePending: .wait, unixNanoseconds: t0)
        _ = try lease(f, open, grant: 20, share: 0)
        f.table.setClusterSyncState(.unavailable)
        var admitted: UInt64 = 0
        while case .admitted = f.table.acquire([QuotaCharge(open, cost: 10)], worker: 0, onLeasePending: .wait, unixNanoseconds: t0) {
            admitted += 10
            if admitted > 1_000 { break }
        }
        #expect(admitted == 20, "the lease, and not a unit more")
        guard case .rejected(let no) = f.table.acquire([QuotaCharge(open, cost: 10)], worker: 0, onLeasePending: .wait, unixNanoseconds: t0) else {
            Issue.record("refused once the lease is spent"); return
        }
        #expect(no.status.remaining == 0)
    }

    @Test func strictAndLocalLimitsAreNotLeased() {
        #expect(!limit("rpm", 10, .rolling(periodSeconds: 60)).isLeased)
        let strict = QuotaLimit(LimitDefinition(name: "rpm", unit: .requests, limit: 10, window: .rolling(periodSeconds: 60),
                                                sharing: .clusterFailClosed, strict: true), scope: "key:a")!
        #expect(!strict.isLeased)
        #expect(strict.baseKey != limit("rpm", 10, .rolling(periodSeconds: 60), .clusterFailClosed).baseKey)
    }
}
