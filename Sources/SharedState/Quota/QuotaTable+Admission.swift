import CTollgate

/// The worker's API: admission over several limits at once, settlement, and status for headers.
extension QuotaTable {
    /// What to do when a limit's key finds no free slot in its probe window (table too small
    /// for the number of live keys). Either way the matching `Stat` counts it.
    public enum TableFullPolicy: Sendable {
        /// Skip that limit for this request (availability over enforcement).
        case failOpen
        /// Reject the request with `QuotaRejection.Reason.tableFull`.
        case failClosed
    }

    /// What a leased (cluster) limit does when the pod's allowance cannot cover the cost and
    /// Redis is reachable: the controller is asked for a lease either way (the demand is
    /// registered); meanwhile the request either waits or is admitted on credit.
    public enum LeasePendingPolicy: Sendable {
        /// Return `.rejected` with reason `.awaitingLease`; the caller retries shortly (the
        /// worker's `QuotaLeaseWait` polls on its event loop) instead of answering 429.
        case wait
        /// Admit the request once on credit (the allowance goes negative by its cost, which the
        /// next lease repays and Redis charges): at most one request per limit and pod is ever
        /// outstanding on credit. For callers that cannot wait (provider budgets picked during
        /// the fallback walk).
        case credit
    }

    /// How long a client should wait when the refusal is not about the limit's own numbers
    /// (sync unavailable, table full, concurrency): one second.
    static let defaultRetryAfter: UInt64 = 1_000_000_000

    /// Reserves `cost` in every limit of `charges`, or in none: on the first rejection the
    /// reservations already taken are refunded and the rejection is returned.
    ///
    /// - `worker`: the calling worker's slot (0..<workerColumns): concurrency limits count in
    ///   that worker's column, so the supervisor can zero a dead worker's share.
    /// - Rolling (GCRA) and calendar limits charge the estimate now; `settle` corrects it.
    /// - Leased (cluster) limits spend the pod's allowance, which the controller leases from
    ///   Redis (`QuotaTable+LeasedAdmission.swift`); without enough of it the request waits or
    ///   takes credit (`onLeasePending`), is refused while Redis refused the last lease, or,
    ///   with Redis unreachable, falls back per the limit's sharing (fail-open: a local share;
    ///   fail-closed: `.clusterSyncUnavailable`).
    /// Non-blocking: a few atomic operations per limit, no syscalls besides reading the clock
    /// when `unixNanoseconds` is not passed.
    public func acquire(_ charges: [QuotaCharge], worker: Int, onTableFull: TableFullPolicy = .failOpen,
                        onLeasePending: LeasePendingPolicy = .credit,
                        unixNanoseconds: UInt64 = QuotaClock.unixNanoseconds()) -> QuotaDecision {
        precondition(worker >= 0 && worker < workerColumns, "worker \(worker) has no column in the quota table")
        let now = tableTime(unixNanoseconds: unixNanoseconds)
        let sync = clusterSyncState
        var entries: [QuotaReservation.Entry] = []
        entries.reserveCapacity(charges.count)
        var leased = false
        func reject(_ reason: QuotaRejection.Reason, _ index: Int, _ status: QuotaStatus, _ retry: UInt64?) -> QuotaDecision {
            for entry in entries.reversed() { undo(entry, worker: worker, now: now) }
            return .rejected(QuotaRejection(reason: reason, index: index, status: status, retryAfterNanoseconds: retry))
        }
        for (index, charge) in charges.enumerated() {
            let limit = charge.limit
            let (key, windowEndUnix) = limit.slotKey(unixNanoseconds: unixNanoseconds)
            let windowEnd = tableTime(unixNanoseconds: windowEndUnix)
            let aux: UInt64
            switch limit.kind {
            case .rolling: aux = limit.gcra!.period
            case .calendar: aux = windowEnd
            case .concurrent: aux = now
            }
            var outcome: Reserve = .retry
            var attempts = 0
            while case .retry = outcome, attempts < 8 {
                attempts += 1
                guard let slot = findOrClaimSlot(key: key, limit: limit.limit, aux: aux, meta: limit.meta) else {
                    outcome = .noSlot
                    break
                }
                if limit.isLeased {
                    outcome = reserveLeased(slot: slot, key: key, limit: limit, cost: charge.cost, now: now, windowEnd: windowEnd,
                                            sync: sync, policy: onLeasePending)
                } else {
                    outcome = reserve(slot: slot, key: key, limit: limit, cost: charge.cost, worker: worker, now: now, windowEnd: windowEnd)
                }
            }
            switch outcome {
            case .admitted(let entry):
                entries.append(entry)
                leased = leased || limit.isLeased
            case .rejected(let status, let retry):
                return reject(.limitExceeded, index, status, retry)
            case .awaitingLease(let status):
                count(.leaseWaits)
                return reject(.awaitingLease, index, status, Self.leaseRetryHint)
            case .syncUnavailable(let status):
                count(.syncUnavailableRejected)
                return reject(.clusterSyncUnavailable, index, status, Self.defaultRetryAfter)
            case .noSlot, .retry:
                if onTableFull == .failClosed {
                    count(.tableFullRejected)
                    return reject(.tableFull, index, QuotaStatus(limit, remaining: 0, resetAfter: Self.defaultRetryAfter), Self.defaultRetryAfter)
                }
                count(.tableFullAdmitted)
            }
        }
        if leased { count(.clusterAdmitted) }
        return .admitted(QuotaReservation(entries: entries, worker: worker))
    }

    /// Settles a reservation with what the request really used: the difference to the
    /// estimate is refunded or charged (consumption that happened is charged even past the
    /// limit), cluster limits record it for Redis, and concurrency slots are released.
    /// Only the first call per reservation acts; it returns false afterwards. A slot whose
    /// window ended and was reclaimed meanwhile is left alone (the window is over).
    @discardableResult
    public func settle(_ reservation: QuotaReservation, actual: QuotaUsage,
                       unixNanoseconds: UInt64 = QuotaClock.unixNanoseconds()) -> Bool {
        guard reservation.claimSettlement() else { return false }
        let now = tableTime(unixNanoseconds: unixNanoseconds)
        for entry in reservation.entries {
            if entry.limit.kind == .concurrent {
                _ = tg_atomic_sub_u64(inflightWord(entry.slot, worker: reservation.worker), 1)
                continue
            }
            let used = actual[entry.limit.definition.unit]
            if used < entry.cost {
                adjust(entry, by: entry.cost - used, refund: true, now: now)
            } else if used > entry.cost {
                adjust(entry, by: used - entry.cost, refund: false, now: now)
            }
        }
        return true
    }

    /// The status of one limit without changing anything (a key never used is fully available).
    public func peek(_ limit: QuotaLimit, unixNanoseconds: UInt64 = QuotaClock.unixNanoseconds()) -> QuotaStatus {
        let now = tableTime(unixNanoseconds: unixNanoseconds)
        let (key, windowEndUnix) = limit.slotKey(unixNanoseconds: unixNanoseconds)
        let windowEnd = tableTime(unixNanoseconds: windowEndUnix)
        let slot = findSlot(key: key)
        if limit.isLeased {
            return leasedStatus(slot, limit: limit, now: now, windowEnd: windowEnd)
        }
        let value = slot.map { tg_atomic_load_u64(slotWord($0, SlotField.value)) & Self.valueMask } ?? 0
        switch limit.kind {
        case .rolling:
            let s = limit.gcra!.status(tat: value, now: now)
            return QuotaStatus(limit, remaining: s.remaining, resetAfter: s.resetAfter)
        case .calendar:
            return QuotaStatus(limit, remaining: limit.limit.subtractingSaturating(value), resetAfter: windowEnd.subtractingSaturating(now))
        case .concurrent:
            let used = slot.map { inflight($0) } ?? 0
            return QuotaStatus(limit, remaining: limit.limit.subtractingSaturating(used), resetAfter: 0)
        }
    }

    // MARK: - One slot

    enum Reserve {
        case admitted(QuotaReservation.Entry)
        case rejected(QuotaStatus, retryAfter: UInt64?)
        /// The slot was being reclaimed; look the key up again.
        case retry
        case noSlot
        /// Leased slot without enough allowance: the controller was asked for a lease.
        case awaitingLease(QuotaStatus)
        /// Leased fail-closed slot without allowance while Redis is unreachable.
        case syncUnavailable(QuotaStatus)
    }

    private func reserve(slot: Int, key: UInt64, limit: QuotaLimit, cost: UInt64, worker: Int, now: UInt64, windowEnd: UInt64) -> Reserve {
        func admitted(_ remaining: UInt64, _ resetAfter: UInt64) -> Reserve {
            .admitted(QuotaReservation.Entry(slot: slot, key: key, limit: limit, cost: cost, remaining: remaining, resetAfter: resetAfter))
        }
        let valueWord = slotWord(slot, SlotField.value)
        if limit.kind == .concurrent {
            // Increment mine, then read everyone's (sequentially consistent): of two racing
            // requests at the boundary at least one sees the other, so the limit is never
            // exceeded (both may be refused, which errs on the safe side).
            let mine = inflightWord(slot, worker: worker)
            _ = tg_atomic_add_seqcst_u64(mine, 1)
            if tg_atomic_load_seqcst_u64(valueWord) & Self.reclaimFlag != 0 {
                _ = tg_atomic_sub_u64(mine, 1)
                finishReclaim(slot, key: key)
                return .retry
            }
            let used = inflight(slot)
            if used > limit.limit {
                _ = tg_atomic_sub_u64(mine, 1)
                return .rejected(QuotaStatus(limit, remaining: 0, resetAfter: 0), retryAfter: Self.defaultRetryAfter)
            }
            tg_atomic_store_u64(slotWord(slot, SlotField.aux), now)
            return admitted(limit.limit.subtractingSaturating(used), 0)
        }
        while true {
            var value = tg_atomic_load_u64(valueWord)
            if value & Self.reclaimFlag != 0 {
                finishReclaim(slot, key: key)
                return .retry
            }
            let newValue: UInt64
            let remaining: UInt64
            let resetAfter: UInt64
            if limit.kind == .rolling {
                let d = limit.gcra!.decide(tat: value, now: now, cost: cost)
                guard d.admitted else { return .rejected(QuotaStatus(limit, remaining: d.remaining, resetAfter: d.resetAfter), retryAfter: d.retryAfter) }
                (newValue, remaining, resetAfter) = (min(d.newTAT, Self.valueMask), d.remaining, d.resetAfter)
            } else {
                let d = WindowCounter(limit: limit.limit).decide(count: value, cost: cost, now: now, windowEnd: windowEnd)
                guard d.admitted else { return .rejected(QuotaStatus(limit, remaining: d.remaining, resetAfter: d.resetAfter), retryAfter: d.retryAfter) }
                (newValue, remaining, resetAfter) = (d.newCount, d.remaining, d.resetAfter)
            }
            if tg_atomic_cas_u64(valueWord, &value, newValue) {
                return admitted(remaining, resetAfter)
            }
        }
    }

    /// Gives back everything `entry` took (a later limit of the same `acquire` refused).
    private func undo(_ entry: QuotaReservation.Entry, worker: Int, now: UInt64) {
        if entry.limit.kind == .concurrent {
            _ = tg_atomic_sub_u64(inflightWord(entry.slot, worker: worker), 1)
        } else {
            adjust(entry, by: entry.cost, refund: true, now: now)
        }
    }

    /// Refunds or charges `amount` on the entry's slot, if the slot still holds its key.
    private func adjust(_ entry: QuotaReservation.Entry, by amount: UInt64, refund: Bool, now: UInt64) {
        guard amount > 0, tg_atomic_load_u64(slotWord(entry.slot, SlotField.key)) == entry.key else { return }
        let valueWord = slotWord(entry.slot, SlotField.value)
        while true {
            var value = tg_atomic_load_u64(valueWord)
            if value & Self.reclaimFlag != 0 { return }
            let newValue: UInt64
            if entry.limit.isLeased {
                // The allowance: a refund returns the units to the pod's lease, a charge above
                // the estimate is owed (it may go negative; the next lease call reports it).
                newValue = refund ? Self.leaseAdd(value, amount) : Self.leaseSubtract(value, amount)
            } else if let gcra = entry.limit.gcra {
                newValue = min(refund ? gcra.refund(tat: value, cost: amount) : gcra.charge(tat: value, now: now, cost: amount), Self.valueMask)
            } else {
                newValue = refund ? value.subtractingSaturating(amount) : min(value.addingSaturating(amount), Self.valueMask)
            }
            if tg_atomic_cas_u64(valueWord, &value, newValue) { break }
        }
    }
}

extension QuotaStatus {
    init(_ limit: QuotaLimit, remaining: UInt64, resetAfter: UInt64) {
        self.init(name: limit.name, unit: limit.definition.unit, limit: limit.limit, remaining: remaining, resetAfterNanoseconds: resetAfter)
    }
}
