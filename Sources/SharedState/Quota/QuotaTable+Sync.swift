import CTollgate

/// Accessors for the controller's Redis sync (`QuotaSync`); workers never call these.
///
/// Per cluster slot the table keeps: `pending` (consumption and refunds the workers recorded
/// since the last round, signed), `ownTotal` (this pod's cumulative consumption that the sync
/// has taken from `pending`; Redis stores it as this pod's field, as an absolute value, so
/// resending it is idempotent) and `foreignSeen` (the other pods' total already charged into
/// the local counter). Only the controller writes the last two.
extension QuotaTable {
    /// One slot of a cluster limit, as seen by the sync.
    public struct SyncedSlot: Sendable, Hashable {
        public var index: Int
        public var key: UInt64
        /// True for GCRA (rolling) slots, false for calendar windows.
        public var rolling: Bool
        /// GCRA: the period; calendar: the window end (table time).
        public var periodOrWindowEnd: UInt64
        public var limit: UInt64
        /// Whether the sync already took its baseline of other pods' totals.
        public var hasBaseline: Bool
    }

    static let baselineFlag: UInt64 = 1 << 17

    /// Every slot of a cluster-shared (non-local) rolling or calendar limit.
    public func syncedSlots() -> [SyncedSlot] {
        var out: [SyncedSlot] = []
        for index in 0..<capacity {
            let key = tg_atomic_load_u64(slotWord(index, SlotField.key))
            guard key != 0 else { continue }
            let meta = tg_atomic_load_u64(slotWord(index, SlotField.meta))
            guard (meta >> 8) & 0xff != 0 else { continue }
            let kind = QuotaLimit.Kind(rawValue: meta & 0xff)
            guard kind == .rolling || kind == .calendar else { continue }
            out.append(SyncedSlot(index: index, key: key, rolling: kind == .rolling,
                                  periodOrWindowEnd: tg_atomic_load_u64(slotWord(index, SlotField.aux)),
                                  limit: tg_atomic_load_u64(slotWord(index, SlotField.limit)),
                                  hasBaseline: meta & Self.baselineFlag != 0))
        }
        return out
    }

    /// Moves the slot's pending consumption into its own total and returns the new total.
    public func absorbPending(_ slot: SyncedSlot) -> Int64 {
        let delta = Int64(bitPattern: tg_atomic_exchange_u64(slotWord(slot.index, SlotField.pending), 0))
        let total = Int64(bitPattern: tg_atomic_load_u64(slotWord(slot.index, SlotField.ownTotal))) &+ delta
        tg_atomic_store_u64(slotWord(slot.index, SlotField.ownTotal), UInt64(bitPattern: total))
        return total
    }

    /// Records the cluster total of the other pods: the growth since the last round is
    /// charged into the local counter (GCRA: the TAT advances by cost × emission interval;
    /// calendar: the count grows). Decreases (other pods' refunds, a Redis that lost its data
    /// and is being refilled) are not given back locally: enforcement errs on the safe side.
    /// The first round of a rolling slot only takes the baseline (a cumulative Redis total
    /// says nothing about *when* it was consumed); a calendar window's total is all inside
    /// the window, so it is charged in full. Returns the amount charged.
    @discardableResult
    public func applyForeign(_ slot: SyncedSlot, foreignTotal: Int64, unixNanoseconds: UInt64 = QuotaClock.unixNanoseconds()) -> UInt64 {
        guard tg_atomic_load_u64(slotWord(slot.index, SlotField.key)) == slot.key else { return 0 }
        let seenWord = slotWord(slot.index, SlotField.foreignSeen)
        let seen = Int64(bitPattern: tg_atomic_load_u64(seenWord))
        let metaWord = slotWord(slot.index, SlotField.meta)
        let meta = tg_atomic_load_u64(metaWord)
        if meta & Self.baselineFlag == 0 {
            tg_atomic_store_u64(metaWord, meta | Self.baselineFlag)
            if slot.rolling {
                tg_atomic_store_u64(seenWord, UInt64(bitPattern: max(0, foreignTotal)))
                return 0
            }
        }
        guard foreignTotal > seen else { return 0 }
        let amount = UInt64(foreignTotal - seen)
        tg_atomic_store_u64(seenWord, UInt64(bitPattern: foreignTotal))
        let now = tableTime(unixNanoseconds: unixNanoseconds)
        let valueWord = slotWord(slot.index, SlotField.value)
        let gcra = slot.rolling ? GCRA(limit: max(1, slot.limit), period: max(1, slot.periodOrWindowEnd)) : nil
        while true {
            var value = tg_atomic_load_u64(valueWord)
            if value & Self.reclaimFlag != 0 { return 0 }
            let newValue = min(gcra.map { $0.charge(tat: value, now: now, cost: amount) } ?? value.addingSaturating(amount), Self.valueMask)
            if tg_atomic_cas_u64(valueWord, &value, newValue) { return amount }
        }
    }

    /// This pod's total as last absorbed (for tests and metrics).
    public func ownTotal(_ slot: SyncedSlot) -> Int64 {
        Int64(bitPattern: tg_atomic_load_u64(slotWord(slot.index, SlotField.ownTotal)))
    }

    /// Counts a sync round's outcome in the header stats.
    public func recordSyncRound(succeeded: Bool, outageStarted: Bool) {
        count(succeeded ? .syncRounds : .syncFailures)
        if outageStarted { count(.syncOutages) }
    }
}
