import SharedState

/// What the controller does for one leased slot in a round, as pure arithmetic (no clock, no
/// I/O): ask for a slice, renew, release, or nothing; and how to turn Redis's answer into what
/// the workers read from the table.
///
/// Slice size: the pod asks for what it would spend until its next renewal at its recent rate
/// (`rate × ttl/2`), at least four times the largest waiting request; Redis caps every grant
/// at a quarter of what is left divided by the live participants, so slices shrink as the
/// limit nears exhaustion, down to exactly the waiting request's cost (strict behaviour at the
/// end), and prefetching stops there too (`prefetchThreshold`).
/// A pod whose consumption did not move for ttl/2 gives its hold back; one that holds units
/// renews every ttl/3 so the lease never expires while the pod is alive and Redis reachable.
public struct LeasePlanner: Sendable, Equatable {
    public var ttlNanoseconds: UInt64
    public var intervalNanoseconds: UInt64
    /// The longest a refused slot refuses without asking Redis again.
    public var recheckNanoseconds: UInt64 = 1_000_000_000

    public init(ttlMilliseconds: Int, intervalMilliseconds: Int) {
        ttlNanoseconds = UInt64(max(1, ttlMilliseconds)) * 1_000_000
        intervalNanoseconds = UInt64(max(1, intervalMilliseconds)) * 1_000_000
    }

    /// The controller's memory of one slot's traffic (lost on restart, rebuilt in a round).
    public struct Activity: Sendable, Equatable {
        public var consumed: Int64 = 0
        /// Table time of the last change of consumption.
        public var lastChange: UInt64 = 0
        public var lastSample: UInt64 = 0
        /// Units per second, smoothed (0 once below a unit per lease TTL).
        public var rate: Double = 0
        /// Table time before which the pod does not prefetch (the last prefetch got nothing).
        public var quietUntil: UInt64 = 0

        public init() {}
    }

    public enum Action: Sendable, Equatable {
        case none
        /// One lease call: grow the hold by `want` (at least `need`, else it is a refusal),
        /// after giving `release` units back.
        case call(want: Int64, need: Int64, release: Int64)
    }

    /// Folds a new consumption reading into the slot's activity (every full round).
    public func observe(_ activity: inout Activity, consumed: Int64, now: UInt64) {
        if activity.lastSample == 0 {
            activity = Activity()
            activity.consumed = consumed
            activity.lastChange = now
            activity.lastSample = now
            return
        }
        let elapsed = Double(now.subtractingSaturatingForLease(activity.lastSample)) / 1e9
        guard elapsed > 0 else { return }
        let delta = consumed &- activity.consumed
        if delta != 0 { activity.lastChange = now }
        let sample = Double(max(0, delta)) / elapsed
        activity.rate = activity.rate == 0 ? sample : 0.5 * activity.rate + 0.5 * sample
        // A decayed rate is no rate: it must not keep prefetching for a key nobody uses.
        if activity.rate * Double(ttlNanoseconds) / 1e9 < 1 { activity.rate = 0 }
        activity.consumed = consumed
        activity.lastSample = now
    }

    /// Units the pod expects to spend until its next renewal.
    func horizonUnits(_ rate: Double) -> Int64 {
        let units = rate * Double(ttlNanoseconds / 2) / 1e9
        return units.isFinite ? Int64(min(units.rounded(.up), 1e15)) : 0
    }

    /// The allowance below which workers ask for the next slice early: what the pod spends in
    /// two rounds plus a Redis round trip.
    public func refillThreshold(rate: Double) -> Int64 {
        let units = rate * Double(2 * intervalNanoseconds + 20_000_000) / 1e9
        return units.isFinite ? Int64(min(units.rounded(.up), 1e15)) : 0
    }

    /// The action for one slot. `full` rounds (every interval) also renew and release; the
    /// rounds a worker's demand triggers only serve demand and prefetch.
    /// `reconcile` (the first full round after a Redis outage): every slot that ever leased
    /// reports its absolute numbers, so a Redis that lost its data is rebuilt at once.
    public func decide(_ state: QuotaTable.LeaseState, activity: Activity, now: UInt64, full: Bool, reconcile: Bool = false) -> Action {
        let hold = max(0, state.allowance)
        let need = state.demand > 0 ? max(0, Int64(clamping: state.demand) - hold) : 0
        let refused = state.refusedUntil > now
        if !refused && need > 0 {
            return .call(want: max(need * 4, horizonUnits(activity.rate) - hold, need), need: need, release: 0)
        }
        let threshold = prefetchThreshold(state, rate: activity.rate)
        if !refused && activity.quietUntil <= now && threshold >= 1 && hold < threshold {
            return .call(want: max(1, horizonUnits(activity.rate) - hold), need: 0, release: 0)
        }
        guard full else { return .none }
        if reconcile && state.lastCall != 0 { return .call(want: 0, need: 0, release: 0) }
        let idle = activity.lastChange.addingSaturatingForLease(ttlNanoseconds / 2) <= now && state.demand == 0
        if idle && hold > 0 { return .call(want: 0, need: 0, release: hold) }
        if state.allowance != 0 && state.lastCall.addingSaturatingForLease(ttlNanoseconds / 3) <= now {
            return .call(want: 0, need: 0, release: 0)
        }
        return .none
    }

    /// The allowance below which the pod asks for its next slice early: what it spends in two
    /// rounds plus a round trip, but never more than a quarter of what Redis had left per live
    /// pod, so near exhaustion pods do not strand units in prefetched slices while another one
    /// refuses (the threshold falls to 0 as the limit runs out: then each pod asks only when a
    /// request does not fit).
    func prefetchThreshold(_ state: QuotaTable.LeaseState, rate: Double) -> Int64 {
        let byRate = refillThreshold(rate: rate)
        guard state.lastCall != 0 else { return byRate }
        return min(byRate, Int64(clamping: state.clusterRemaining / (4 * max(1, state.participants))))
    }

    /// A slot's action when the round already makes a round trip for another slot: the calls
    /// share the pipeline, so a slot at less than half of its next slice is topped up and one
    /// due for renewal soon is renewed now (a key's request, token and dollar limits then
    /// refill together, in one round trip instead of three).
    public func piggyback(_ state: QuotaTable.LeaseState, activity: Activity, now: UInt64) -> Action {
        guard state.refusedUntil <= now else { return .none }
        let hold = max(0, state.allowance)
        let slice = horizonUnits(activity.rate)
        let threshold = prefetchThreshold(state, rate: activity.rate)
        if activity.rate > 0 && activity.quietUntil <= now && threshold >= 1 && hold < min(slice / 2, 2 * threshold) { return .call(want: slice - hold, need: 0, release: 0) }
        if state.allowance != 0 && state.lastCall.addingSaturatingForLease(ttlNanoseconds / 6) <= now {
            return .call(want: 0, need: 0, release: 0)
        }
        return .none
    }

    /// The table's view of one script reply `{grant, left, live, retry µs}`.
    public func answer(grant: Int64, left: Int64, live: Int64, retryMicroseconds: Int64, need: Int64, slot: QuotaTable.LeaseSlot,
                       activity: inout Activity, now: UInt64) -> QuotaTable.LeaseAnswer {
        let pods = UInt64(max(1, live))
        let remaining = UInt64(max(0, left))
        let share = slot.rolling ? max(1, slot.limit / pods) : remaining / pods
        var refusedUntil: UInt64 = 0
        if retryMicroseconds != 0 {
            let wait = retryMicroseconds < 0 ? recheckNanoseconds : min(recheckNanoseconds, UInt64(retryMicroseconds) * 1_000)
            let until = now.addingSaturatingForLease(max(1_000_000, wait))
            if need > 0 {
                refusedUntil = slot.rolling ? until : min(until, max(now + 1, slot.periodOrWindowEnd))
            } else {
                activity.quietUntil = until
            }
        }
        // The workers' prefetch trigger, capped near exhaustion like the controller's own.
        let refill = min(refillThreshold(rate: activity.rate), Int64(clamping: remaining / (4 * pods)))
        return QuotaTable.LeaseAnswer(grant: max(0, grant), clusterRemaining: remaining, share: share, refusedUntil: refusedUntil,
                                      refillBelow: refill, participants: pods)
    }
}

extension UInt64 {
    func subtractingSaturatingForLease(_ other: UInt64) -> UInt64 { self > other ? self - other : 0 }
    func addingSaturatingForLease(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
