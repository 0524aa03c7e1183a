import CTollgate
import Foundation
import Testing
@testable import SharedState

@Suite struct QuotaMaintenanceTests {
    let t0 = QuotaClock.unixNanoseconds()

    @Test func garbageCollectionReclaimsOnlyWhatIsAtRest() throws {
        let f = try TableFixture()
        let rps = limit("rps", 10, .rolling(periodSeconds: 1))
        let rpd = limit("rpd", 10, .rolling(periodSeconds: 86_400))
        let daily = limit("usd-day", .microUSD, 10, .calendar(.day, timeZone: "UTC"))
        let inflight = limit("conc", 1, .concurrent)
        _ = f.table.acquire([QuotaCharge(rps, cost: 1), QuotaCharge(rpd, cost: 1), QuotaCharge(daily, cost: 1)], worker: 0, unixNanoseconds: t0)
        guard case .admitted(let held) = f.table.acquire([QuotaCharge(inflight, cost: 1)], worker: 1, unixNanoseconds: t0) else {
            Issue.record("must pass"); return
        }
        #expect(f.table.statistic(.slotsInUse) == 4)
        var half: Set<Int> = []
        // 10 s later with 5 s grace: only the per-second limit is at rest.
        #expect(f.table.collectGarbage(unixNanoseconds: t0 + 10 * sec, grace: 5 * sec, halfClaimed: &half) == 1)
        #expect(f.table.peek(rpd, unixNanoseconds: t0).remaining == 9)
        // Two days later the day window ended and the daily GCRA is full again; the
        // concurrency slot is still held by an unsettled request.
        let later = t0 + 2 * 86_400 * sec
        #expect(f.table.collectGarbage(unixNanoseconds: later, grace: 5 * sec, halfClaimed: &half) == 2)
        f.table.settle(held, actual: QuotaUsage())
        #expect(f.table.collectGarbage(unixNanoseconds: later, grace: 5 * sec, halfClaimed: &half) == 1)
        #expect(f.table.statistic(.slotsInUse) == 0 && f.table.statistic(.slotsReclaimed) == 4)
        // A reclaimed key starts fresh.
        #expect(f.table.peek(rpd, unixNanoseconds: later).remaining == 10)
    }

    @Test func leasedSlotsAreReclaimedOnlyWhenTheyHoldNothing() throws {
        let f = try TableFixture()
        let rps = limit("rps", 10, .rolling(periodSeconds: 1), .clusterFailOpen)
        _ = f.table.acquire([QuotaCharge(rps, cost: 1)], worker: 0, unixNanoseconds: t0)  // on credit
        f.table.setClusterSyncState(.healthy)
        var half: Set<Int> = []
        let slot = try #require(f.table.leaseSlots().first)
        // Owes one unit and has demand: kept.
        #expect(f.table.collectGarbage(unixNanoseconds: t0 + 3_600 * sec, grace: sec, halfClaimed: &half) == 0)
        f.table.clearDemand(slot)
        let now = f.table.tableTime(unixNanoseconds: t0)
        f.table.applyLease(slot, .init(grant: 5, clusterRemaining: 0, share: 0, refusedUntil: 0, refillBelow: 0), now: now)
        #expect(f.table.leaseState(slot)?.allowance == 4)
        // Holds four units: kept until they are given back.
        #expect(f.table.collectGarbage(unixNanoseconds: t0 + 3_600 * sec, grace: sec, halfClaimed: &half) == 0)
        #expect(f.table.takeBack(slot, upTo: 100) == 4)
        #expect(f.table.leaseState(slot)?.granted == 1 && f.table.leaseState(slot)?.consumed == 1)
        #expect(f.table.collectGarbage(unixNanoseconds: t0, grace: sec, halfClaimed: &half) == 0, "called Redis just now")
        #expect(f.table.collectGarbage(unixNanoseconds: t0 + 3_600 * sec, grace: sec, halfClaimed: &half) == 1)
    }

    @Test func halfClaimedSlotIsRepairedOrReclaimed() throws {
        let f = try TableFixture()
        let rpm = limit("rpm", 10, .rolling(periodSeconds: 60))
        // A process claimed the key word and died before writing anything else.
        let (key, _) = rpm.slotKey(unixNanoseconds: t0)
        let index = Int(truncatingIfNeeded: key) & (f.table.capacity - 1)
        var zero: UInt64 = 0
        #expect(tg_atomic_cas_u64(f.table.slotWord(index, QuotaTable.SlotField.key), &zero, key))
        // The next user of the key adopts the slot and completes its parameters.
        guard case .admitted = f.table.acquire([QuotaCharge(rpm, cost: 1)], worker: 0, unixNanoseconds: t0) else {
            Issue.record("must pass"); return
        }
        #expect(f.table.findSlot(key: key) == index)
        #expect(tg_atomic_load_u64(f.table.slotWord(index, QuotaTable.SlotField.meta)) != 0)
        // An orphan nobody adopts is reclaimed on the second GC pass, not the first.
        let orphanKey = key ^ 0x5555
        let orphan = (index + 7) & (f.table.capacity - 1)
        zero = 0
        #expect(tg_atomic_cas_u64(f.table.slotWord(orphan, QuotaTable.SlotField.key), &zero, orphanKey))
        var half: Set<Int> = []
        _ = f.table.collectGarbage(unixNanoseconds: t0, grace: sec, halfClaimed: &half)
        #expect(half == [orphan])
        #expect(f.table.collectGarbage(unixNanoseconds: t0, grace: sec, halfClaimed: &half) == 1)
        #expect(f.table.findSlot(key: orphanKey) == nil)
    }

    @Test func reclaimInterruptedByACrashIsFinishedByTheNextUser() throws {
        let f = try TableFixture()
        let rpm = limit("rpm", 2, .rolling(periodSeconds: 60))
        _ = f.table.acquire([QuotaCharge(rpm, cost: 2)], worker: 0, unixNanoseconds: t0)
        let (key, _) = rpm.slotKey(unixNanoseconds: t0)
        let index = try #require(f.table.findSlot(key: key))
        let value = tg_atomic_load_u64(f.table.slotWord(index, QuotaTable.SlotField.value))
        // The GC flagged the slot and died.
        #expect(f.table.beginReclaim(index, observed: value))
        let later = t0 + 3_600 * sec
        guard case .admitted(let r) = f.table.acquire([QuotaCharge(rpm, cost: 1)], worker: 0, unixNanoseconds: later) else {
            Issue.record("the flag must not wedge the key"); return
        }
        #expect(r.statuses.first?.remaining == 1)
        #expect(f.table.statistic(.slotsReclaimed) == 1 && f.table.statistic(.slotsInUse) == 1)
    }
}
