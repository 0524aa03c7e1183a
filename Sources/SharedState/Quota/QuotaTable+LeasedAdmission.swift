import CTollgate

/// Admission against a leased (cluster) limit: the pod spends an allowance the controller
/// leased from Redis, so a request costs a few atomic operations on the shared table and never
/// a Redis round trip (the lease protocol is described in `QuotaLeaseSync`).
///
/// The slot's value word is the allowance (+ `leaseBias`); a spend is one CAS that keeps it
/// at or above zero. When it cannot:
/// - Redis refused the last lease (the cluster limit is spent): reject until `refusedUntil`;
/// - Redis unreachable: fail-closed limits reject, fail-open ones admit against a local share
///   of the limit (the controller's last estimate of limit ÷ live pods) and record the units
///   as owed (the allowance goes negative), which the next lease call reports to Redis;
/// - otherwise the demand is registered (the controller polls for it) and the request waits
///   or takes credit, per `LeasePendingPolicy`.
/// Spending below the refill threshold also registers demand, so the next lease usually
/// arrives before the allowance runs out.
extension QuotaTable {
    /// The retry hint of `.awaitingLease` (the worker polls far more often than this).
    static let leaseRetryHint: UInt64 = 1_000_000

    @inline(__always)
    static func allowance(_ value: UInt64) -> Int64 {
        Int64(bitPattern: (value & valueMask) &- leaseBias)
    }

    /// Clamped so the value stays inside (0, 2^63): a runaway charge saturates instead of
    /// flipping the reclaim flag.
    @inline(__always)
    static func leaseAdd(_ value: UInt64, _ amount: UInt64) -> UInt64 {
        (value & valueMask).addingSaturating(amount) >= valueMask ? valueMask - 1 : (value & valueMask) + amount
    }

    @inline(__always)
    static func leaseSubtract(_ value: UInt64, _ amount: UInt64) -> UInt64 {
        max(1, (value & valueMask).subtractingSaturating(amount))
    }

    func reserveLeased(slot: Int, key: UInt64, limit: QuotaLimit, cost: UInt64, now: UInt64, windowEnd: UInt64,
                       sync: ClusterSyncState, policy: LeasePendingPolicy) -> Reserve {
        let valueWord = slotWord(slot, SlotField.value)
        while true {
            var value = tg_atomic_load_u64(valueWord)
            if value & Self.reclaimFlag != 0 {
                finishReclaim(slot, key: key)
                return .retry
            }
            let allowance = Self.allowance(value)
            if cost == 0 || (allowance >= 0 && UInt64(allowance) >= cost) {
                let newValue = value - cost
                guard tg_atomic_cas_u64(valueWord, &value, newValue) else { continue }
                let left = allowance - Int64(cost)
                let threshold = Int64(bitPattern: tg_atomic_load_u64(slotWord(slot, SlotField.refillBelow)))
                if left < threshold && allowance >= threshold { registerDemand(slot, cost: 0) }
                let status = leasedStatus(slot, limit: limit, now: now, windowEnd: windowEnd, allowance: left)
                return .admitted(QuotaReservation.Entry(slot: slot, key: key, limit: limit, cost: cost,
                                                        remaining: status.remaining, resetAfter: status.resetAfterNanoseconds))
            }
            if sync == .unavailable {
                if limit.definition.sharing == .clusterFailClosed {
                    return .syncUnavailable(leasedStatus(slot, limit: limit, now: now, windowEnd: windowEnd, allowance: allowance))
                }
                return reserveFailOpen(slot: slot, key: key, limit: limit, cost: cost, now: now, windowEnd: windowEnd)
            }
            let refusedUntil = tg_atomic_load_u64(slotWord(slot, SlotField.refusedUntil))
            if refusedUntil > now {
                let status = leasedStatus(slot, limit: limit, now: now, windowEnd: windowEnd, allowance: allowance)
                return .rejected(status, retryAfter: cost > limit.limit ? nil : refusedUntil - now)
            }
            registerDemand(slot, cost: cost)
            if policy == .credit && allowance >= 0 {
                guard tg_atomic_cas_u64(valueWord, &value, Self.leaseSubtract(value, cost)) else { continue }
                let status = leasedStatus(slot, limit: limit, now: now, windowEnd: windowEnd, allowance: allowance - Int64(cost))
                return .admitted(QuotaReservation.Entry(slot: slot, key: key, limit: limit, cost: cost,
                                                        remaining: status.remaining, resetAfter: status.resetAfterNanoseconds))
            }
            return .awaitingLease(leasedStatus(slot, limit: limit, now: now, windowEnd: windowEnd, allowance: allowance))
        }
    }

    /// Redis is unreachable and the allowance is spent: a fail-open limit admits against its
    /// local share (the `failOpen` word counts what this fallback admitted: a GCRA TAT or a
    /// window count), and the units are owed on the allowance.
    private func reserveFailOpen(slot: Int, key: UInt64, limit: QuotaLimit, cost: UInt64, now: UInt64, windowEnd: UInt64) -> Reserve {
        let shareWord = tg_atomic_load_u64(slotWord(slot, SlotField.share))
        // A share of 0 that Redis answered means nothing is left for this pod (a calendar
        // budget's remainder divided among the live pods rounds down to 0): refuse. Only a
        // slot that never had an answer falls back to the whole limit. (Treating an answered
        // 0 as "unknown" let each pod spend a whole budget while Redis was away.)
        if shareWord == 0 && tg_atomic_load_u64(slotWord(slot, SlotField.lastCall)) != 0 {
            let status = leasedStatus(slot, limit: limit, now: now, windowEnd: windowEnd, allowance: 0)
            return .rejected(status, retryAfter: limit.gcra == nil && windowEnd > now ? windowEnd - now : nil)
        }
        let share = max(1, shareWord == 0 ? limit.limit : min(shareWord, limit.limit))
        let localWord = slotWord(slot, SlotField.failOpen)
        while true {
            var local = tg_atomic_load_u64(localWord)
            let newLocal: UInt64
            if let gcra = limit.gcra {
                let d = GCRA(limit: share, period: gcra.period).decide(tat: local, now: now, cost: cost)
                guard d.admitted else {
                    return .rejected(QuotaStatus(limit, remaining: d.remaining, resetAfter: d.resetAfter), retryAfter: d.retryAfter)
                }
                newLocal = min(d.newTAT, Self.valueMask)
            } else {
                let d = WindowCounter(limit: share).decide(count: local, cost: cost, now: now, windowEnd: windowEnd)
                guard d.admitted else {
                    return .rejected(QuotaStatus(limit, remaining: d.remaining, resetAfter: d.resetAfter), retryAfter: d.retryAfter)
                }
                newLocal = d.newCount
            }
            guard tg_atomic_cas_u64(localWord, &local, newLocal) else { continue }
            break
        }
        let valueWord = slotWord(slot, SlotField.value)
        while true {
            var value = tg_atomic_load_u64(valueWord)
            if value & Self.reclaimFlag != 0 { return .retry }
            if tg_atomic_cas_u64(valueWord, &value, Self.leaseSubtract(value, cost)) {
                let status = leasedStatus(slot, limit: limit, now: now, windowEnd: windowEnd, allowance: 0)
                return .admitted(QuotaReservation.Entry(slot: slot, key: key, limit: limit, cost: cost,
                                                        remaining: status.remaining, resetAfter: status.resetAfterNanoseconds))
            }
        }
    }

    /// Raises the slot's demand to at least `cost` and bumps the header's demand sequence.
    @inline(__always)
    func registerDemand(_ slot: Int, cost: UInt64) {
        let word = slotWord(slot, SlotField.demand)
        var current = tg_atomic_load_u64(word)
        let wanted = max(1, cost)
        while current < wanted && !tg_atomic_cas_u64(word, &current, wanted) {}
        bumpLeaseDemand()
    }

    /// Header numbers of a leased limit: what this pod holds plus what Redis still had when
    /// the controller last asked (other pods' holdings are not visible to it).
    func leasedStatus(_ slot: Int?, limit: QuotaLimit, now: UInt64, windowEnd: UInt64, allowance: Int64? = nil) -> QuotaStatus {
        let mine = allowance ?? slot.map { Self.allowance(tg_atomic_load_u64(slotWord($0, SlotField.value))) } ?? 0
        let cluster = slot.map { tg_atomic_load_u64(slotWord($0, SlotField.clusterRemaining)) } ?? limit.limit
        let remaining = min(limit.limit, UInt64(max(0, mine)).addingSaturating(cluster))
        let reset: UInt64
        if let gcra = limit.gcra {
            // The time the rolling window needs to refill what is missing.
            let missing = limit.limit - remaining
            reset = gcra.increment(cost: missing)
        } else {
            reset = windowEnd.subtractingSaturating(now)
        }
        return QuotaStatus(limit, remaining: remaining, resetAfter: reset)
    }
}
