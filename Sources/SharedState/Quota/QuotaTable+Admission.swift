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

    /// How long a client should wait when the refusal is not about the limit's own numbers
    /// (sync unavailable, table full, concurrency): one second.
    static let defaultRetryAfter: UInt64 = 1_000_000_000

    /// Reserves `cost` in every limit of `charges`, or in none: on the first rejection the
    /// reservations already taken are refunded and the rejection is returned.
    ///
    /// - `worker`: the calling worker's slot (0..<workerColumns): concurrency limits count in
    ///   that worker's column, so the supervisor can zero a dead worker's share.
    /// - Rolling (GCRA) and calendar limits charge the estimate now; `settle` corrects it.
    /// - Cluster limits also add the cost to the slot's pending counter, which the
    ///   controller's sync pushes to Redis; fail-closed cluster limits reject while
    ///   `clusterSyncState == .unavailable`.
    /// Non-blocking: a few atomic operations per limit, no syscalls besides reading the clock
    /// when `unixNanoseconds` is not passed.
    public func acquire(_ charges: [QuotaCharge], worker: Int, onTableFull: TableFullPolicy = .failOpen,
                        unixNanoseconds: UInt64 = QuotaClock.unixNanoseconds()) -> QuotaDecision {
        precondition(worker >= 0 && worker < workerColumns, "worker \(worker) has no column in the quota table")
        let now = tableTime(unixNanoseconds: unixNanoseconds)
        let sync = clusterSyncState
        var entries: [QuotaReservation.Entry] = []
        entries.reserveCapacity(charges.count)
        func reject(_ reason: QuotaRejection.Reason, _ index: Int, _ status: QuotaStatus, _ retry: UInt64?) -> QuotaDecision {
            for entry in entries.reversed() { undo(entry, worker: worker, now: now) }
            return .rejected(QuotaRejection(reason: reason, index: index, status: status, retryAfterNanoseconds: retry))
        }
        for (index, charge) in charges.enumerated() {
            let limit = charge.limit
            if limit.definition.sharing == .clusterFailClosed && sync == .unavailable {
                count(.syncUnavailableRejected)
                return reject(.clusterSyncUnavailable, index, peek(limit, unixNanoseconds: unixNanoseconds), Self.defaultRetryAfter)
            }
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
                outcome = reserve(slot: slot, key: key, limit: limit, cost: charge.cost, worker: worker, now: now, windowEnd: windowEnd)
            }
            switch outcome {
            case .admitted(let entry):
                entries.append(entry)
            case .rejected(let status, let retry):
                return reject(.limitExceeded, index, status, retry)
            case .noSlot, .retry:
                if onTableFull == .failClosed {
                    count(.tableFullRejected)
                    return reject(.tableFull, index, QuotaStatus(limit, remaining: 0, resetAfter: Self.defaultRetryAfter), Self.defaultRetryAfter)
                }
                count(.tableFullAdmitted)
            }
        }
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
                if limit.definition.sharing != .local && cost > 0 {
                    _ = tg_atomic_add_u64(slotWord(slot, SlotField.pending), cost)
                }
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
            if let gcra = entry.limit.gcra {
                newValue = min(refund ? gcra.refund(tat: value, cost: amount) : gcra.charge(tat: value, now: now, cost: amount), Self.valueMask)
            } else {
                newValue = refund ? value.subtractingSaturating(amount) : min(value.addingSaturating(amount), Self.valueMask)
            }
            if tg_atomic_cas_u64(valueWord, &value, newValue) { break }
        }
        if entry.limit.definition.sharing != .local {
            let pending = slotWord(entry.slot, SlotField.pending)
            if refund { _ = tg_atomic_sub_u64(pending, amount) } else { _ = tg_atomic_add_u64(pending, amount) }
        }
    }
}

extension QuotaStatus {
    init(_ limit: QuotaLimit, remaining: UInt64, resetAfter: UInt64) {
        self.init(name: limit.name, unit: limit.definition.unit, limit: limit.limit, remaining: remaining, resetAfterNanoseconds: resetAfter)
    }
}
