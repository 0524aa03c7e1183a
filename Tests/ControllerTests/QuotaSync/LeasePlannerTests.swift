import SharedState
import Testing
@testable import QuotaCluster

/// The lease loop's decisions as pure arithmetic: what a slot asks Redis for, and what the
/// workers are told afterwards.
@Suite struct LeasePlannerTests {
    let planner = LeasePlanner(ttlMilliseconds: 3_000, intervalMilliseconds: 50)
    let ms: UInt64 = 1_000_000
    let t: UInt64 = 1_000_000 * 1_000_000_000  // some table time

    func state(allowance: Int64 = 0, demand: UInt64 = 0, lastCall: UInt64 = 0, refusedUntil: UInt64 = 0,
               remaining: UInt64 = 1_000_000, participants: UInt64 = 1) -> QuotaTable.LeaseState {
        QuotaTable.LeaseState(allowance: allowance, granted: 100, participant: 1, demand: demand, lastCall: lastCall,
                              refusedUntil: refusedUntil, clusterRemaining: remaining, participants: participants)
    }

    func activity(rate: Double, lastChange: UInt64) -> LeasePlanner.Activity {
        var a = LeasePlanner.Activity()
        a.rate = rate
        a.lastChange = lastChange
        a.lastSample = lastChange
        return a
    }

    @Test func waitingRequestsAreServedWithASliceSizedFromTheRate() {
        let quiet = activity(rate: 0, lastChange: t)
        #expect(planner.decide(state(allowance: 2, demand: 10), activity: quiet, now: t, full: false) == .call(want: 32, need: 8, release: 0))
        // 200 units/s for half a TTL (1.5 s) = 300, minus what it holds.
        let busy = activity(rate: 200, lastChange: t)
        #expect(planner.decide(state(allowance: 2, demand: 10, lastCall: t), activity: busy, now: t, full: false) == .call(want: 298, need: 8, release: 0))
        // Demand already covered (a grant arrived): nothing to ask.
        #expect(planner.decide(state(allowance: 20, demand: 10, lastCall: t), activity: quiet, now: t, full: false) == .none)
        // Refused: the waiting requests are answered 429 by the workers; no call until then.
        #expect(planner.decide(state(demand: 10, lastCall: t, refusedUntil: t + 100 * ms), activity: busy, now: t, full: true) == .none)
    }

    @Test func prefetchStartsBelowTwoRoundsOfTrafficAndStopsNearExhaustion() {
        let busy = activity(rate: 1_000, lastChange: t)
        // Two rounds plus a round trip at 1 000/s = 120 units.
        #expect(planner.refillThreshold(rate: 1_000) == 120)
        #expect(planner.decide(state(allowance: 119, lastCall: t), activity: busy, now: t, full: false) == .call(want: 1_381, need: 0, release: 0))
        #expect(planner.decide(state(allowance: 121, lastCall: t), activity: busy, now: t, full: false) == .none)
        // Redis has 400 left for two pods: at most 50 each are prefetched.
        #expect(planner.decide(state(allowance: 60, lastCall: t, remaining: 400, participants: 2), activity: busy, now: t, full: false) == .none)
        #expect(planner.decide(state(allowance: 49, lastCall: t, remaining: 400, participants: 2), activity: busy, now: t, full: false)
                == .call(want: 1_451, need: 0, release: 0))
        // Nothing left: no prefetch at all, each request asks for itself.
        #expect(planner.decide(state(allowance: 0, lastCall: t, remaining: 3, participants: 2), activity: busy, now: t, full: true) == .none)
        // A prefetch that got nothing waits before the next one.
        var quiet = busy
        quiet.quietUntil = t + 10 * ms
        #expect(planner.decide(state(allowance: 0, lastCall: t), activity: quiet, now: t, full: false) == .none)
    }

    @Test func fullRoundsRenewReleaseAndReconcile() {
        let still = activity(rate: 0, lastChange: t)
        // Holding units, last call a third of a TTL ago: renew.
        #expect(planner.decide(state(allowance: 5, lastCall: t), activity: still, now: t + 1_000 * ms, full: true) == .call(want: 0, need: 0, release: 0))
        #expect(planner.decide(state(allowance: 5, lastCall: t), activity: still, now: t + 1_000 * ms, full: false) == .none)
        // No consumption for half a TTL: give the hold back.
        #expect(planner.decide(state(allowance: 5, lastCall: t), activity: still, now: t + 1_500 * ms, full: true) == .call(want: 0, need: 0, release: 5))
        // Owing units (negative allowance): reported with the renewal.
        #expect(planner.decide(state(allowance: -7, lastCall: t), activity: still, now: t + 1_000 * ms, full: true) == .call(want: 0, need: 0, release: 0))
        // After an outage every slot that ever leased reports, even one holding nothing.
        #expect(planner.decide(state(allowance: 0, lastCall: t), activity: still, now: t + ms, full: true, reconcile: true) == .call(want: 0, need: 0, release: 0))
        #expect(planner.decide(state(allowance: 0, lastCall: t), activity: still, now: t + ms, full: true) == .none)
    }

    @Test func aDecayedRateStopsPrefetching() {
        var a = LeasePlanner.Activity()
        planner.observe(&a, consumed: 0, now: t)
        planner.observe(&a, consumed: 100, now: t + 50 * ms)
        #expect(abs(a.rate - 2_000) < 0.001)
        for i in 2..<40 { planner.observe(&a, consumed: 100, now: t + UInt64(i) * 50 * ms) }
        #expect(a.rate == 0, "halving every round, then cut to zero below a unit per TTL")
    }

    @Test func answersTellWorkersWhenToRefuseAndWhatTheyMaySpendOffline() {
        let calendar = QuotaTable.LeaseSlot(index: 0, key: 1, rolling: false, periodOrWindowEnd: t + 300 * ms, limit: 1_000)
        let rolling = QuotaTable.LeaseSlot(index: 0, key: 1, rolling: true, periodOrWindowEnd: 60_000 * ms, limit: 600)
        var a = activity(rate: 0, lastChange: t)
        // A refused request: workers refuse until Redis's retry, at most a second, and never
        // past the calendar window's end.
        let refused = planner.answer(grant: 0, left: 0, live: 2, retryMicroseconds: -1, need: 5, slot: calendar, activity: &a, now: t)
        #expect(refused.refusedUntil == t + 300 * ms && refused.share == 0 && refused.participants == 2)
        let later = planner.answer(grant: 0, left: 10, live: 1, retryMicroseconds: 5_000_000, need: 5, slot: rolling, activity: &a, now: t)
        #expect(later.refusedUntil == t + 1_000 * ms && later.share == 600, "fail-open share of a rolling limit: limit ÷ live pods")
        // A prefetch that got nothing: only the controller waits.
        let prefetch = planner.answer(grant: 0, left: 0, live: 3, retryMicroseconds: 200_000, need: 0, slot: rolling, activity: &a, now: t)
        #expect(prefetch.refusedUntil == 0 && a.quietUntil == t + 200 * ms && prefetch.share == 200)
        let granted = planner.answer(grant: 40, left: 900, live: 3, retryMicroseconds: 0, need: 5, slot: calendar, activity: &a, now: t)
        #expect(granted.grant == 40 && granted.refusedUntil == 0 && granted.share == 300 && granted.clusterRemaining == 900)
    }
}
