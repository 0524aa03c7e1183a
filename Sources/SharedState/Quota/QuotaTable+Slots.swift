import CTollgate

/// Slot lookup, claiming and reclaiming.
///
/// Open addressing over a bounded probe window: a key lives in one of the `probeWindow` slots
/// after its home slot, and a lookup scans the whole window (it does not stop at a free slot),
/// so freeing a slot never cuts another key's probe chain and no tombstones are needed.
///
/// Claiming is one CAS of the key word from 0; the limiter parameters follow with plain
/// stores. A process killed between the two leaves a "half-claimed" slot (key set, meta 0):
/// the next process that looks the key up writes the meta itself (every accessor knows the
/// parameters, they come from its own config), and the garbage collector frees such a slot
/// if nobody did by its next pass.
///
/// Reclaiming (controller GC only) first sets bit 63 of the value word with a CAS that also
/// proves the value did not change since the slot was judged expired: every charge is a CAS
/// on that word, so from then on no charge can land. It then clears the other words, frees the
/// key and clears the value. A process killed mid-reclaim leaves the flag set; whoever meets
/// the flag next finishes the reclaim (`finishReclaim`), so nobody waits on a dead process.
///
/// Residual races (documented, not prevented): two processes creating the same new key at the
/// very moment the GC frees another slot of that window may claim two slots; the later one
/// notices on its re-scan and gives its slot back, so only a third process that charged the
/// loser in that window of a few instructions loses its charge. A process preempted for
/// longer than the GC grace period between a value CAS and its pending-counter update can
/// misattribute that one update.
extension QuotaTable {
    enum SlotField {
        static let key = 0
        static let value = 1
        /// Leased slots: what the fail-open fallback admitted locally (TAT or count).
        static let failOpen = 2
        static let limit = 3
        static let aux = 4
        static let meta = 5
        /// Leased slots, written by the controller only (see `QuotaTable+Lease.swift`).
        static let granted = 6
        static let participant = 7
        static let share = 8
        static let clusterRemaining = 9
        static let refusedUntil = 10
        static let refillBelow = 11
        /// Leased slots, raised by workers (atomic max), cleared by the controller.
        static let demand = 12
        static let lastCall = 13
        /// Live participants of the key (pods with a lease) at the last Redis answer.
        static let participants = 14
    }

    /// A leased slot's value word holds the pod's allowance plus this bias, so the signed
    /// allowance (negative = units spent on credit or fail-open, owed to Redis) never touches
    /// bit 63, the reclaim flag.
    static let leaseBias: UInt64 = 1 << 62
    static let leasedFlag: UInt64 = 1 << 18

    @inline(__always)
    func probe(_ home: Int, _ step: Int) -> Int { (home + step) & mask }

    /// The slot holding `key`, or nil.
    @inline(__always)
    func findSlot(key: UInt64) -> Int? {
        let home = Int(truncatingIfNeeded: key) & mask
        for step in 0..<probeWindow {
            let index = probe(home, step)
            if tg_atomic_load_u64(slotWord(index, SlotField.key)) == key { return index }
        }
        return nil
    }

    /// The slot for `key`, claimed and initialised if absent; nil when the window is full.
    func findOrClaimSlot(key: UInt64, limit: UInt64, aux: UInt64, meta: UInt64) -> Int? {
        for _ in 0..<8 {
            let home = Int(truncatingIfNeeded: key) & mask
            var free = -1
            for step in 0..<probeWindow {
                let index = probe(home, step)
                let k = tg_atomic_load_u64(slotWord(index, SlotField.key))
                if k == key {
                    if tg_atomic_load_u64(slotWord(index, SlotField.meta)) == 0 {
                        initialise(index, limit: limit, aux: aux, meta: meta)  // a half-claimed slot
                    }
                    return index
                }
                if k == 0 && free < 0 { free = step }
            }
            guard free >= 0 else { return nil }
            let index = probe(home, free)
            var expected: UInt64 = 0
            guard tg_atomic_cas_u64(slotWord(index, SlotField.key), &expected, key) else { continue }
            // A reclaim that freed this key word may not have cleared its value flag yet.
            var value = tg_atomic_load_u64(slotWord(index, SlotField.value))
            if value & Self.reclaimFlag != 0 {
                _ = tg_atomic_cas_u64(slotWord(index, SlotField.value), &value, 0)
            }
            initialise(index, limit: limit, aux: aux, meta: meta)
            count(.slotsInUse)
            // Another process may have claimed the same key at an earlier probe position that
            // was freed while we scanned; the earliest wins, the later one is given back.
            for step in 0..<free where tg_atomic_load_u64(slotWord(probe(home, step), SlotField.key)) == key {
                var mine = key
                if tg_atomic_cas_u64(slotWord(index, SlotField.key), &mine, 0) {
                    _ = tg_atomic_sub_u64(word(Stat.slotsInUse.offset), 1)
                }
                return probe(home, step)
            }
            return index
        }
        return nil
    }

    private func initialise(_ index: Int, limit: UInt64, aux: UInt64, meta: UInt64) {
        if meta & Self.leasedFlag != 0 {
            // An allowance of 0. A CAS from 0, so a completer of a half-claimed slot never
            // overwrites a charge another process made meanwhile.
            var zero: UInt64 = 0
            _ = tg_atomic_cas_u64(slotWord(index, SlotField.value), &zero, Self.leaseBias)
        }
        tg_atomic_store_u64(slotWord(index, SlotField.limit), limit)
        if aux != 0 { tg_atomic_store_u64(slotWord(index, SlotField.aux), aux) }
        tg_atomic_store_u64(slotWord(index, SlotField.meta), meta)
    }

    /// Completes a reclaim whose value flag is set (by the GC, alive or dead). Idempotent.
    func finishReclaim(_ index: Int, key: UInt64) {
        guard tg_atomic_load_u64(slotWord(index, SlotField.key)) == key,
              tg_atomic_load_u64(slotWord(index, SlotField.value)) & Self.reclaimFlag != 0 else { return }
        for field in 2..<Self.slotWords where field != SlotField.value {
            tg_atomic_store_u64(slotWord(index, field), 0)
        }
        var expectedKey = key
        if tg_atomic_cas_u64(slotWord(index, SlotField.key), &expectedKey, 0) {
            _ = tg_atomic_sub_u64(word(Stat.slotsInUse.offset), 1)
            count(.slotsReclaimed)
        }
        var value = tg_atomic_load_u64(slotWord(index, SlotField.value))
        if value & Self.reclaimFlag != 0 {
            _ = tg_atomic_cas_u64(slotWord(index, SlotField.value), &value, 0)
        }
    }

    /// Starts reclaiming slot `index` if its value is still `observed`; false if it changed.
    func beginReclaim(_ index: Int, observed: UInt64) -> Bool {
        var expected = observed
        return tg_atomic_cas_seqcst_u64(slotWord(index, SlotField.value), &expected, observed | Self.reclaimFlag)
    }

    /// The sum of all workers' in-flight counters of a slot (signed, clamped at 0).
    @inline(__always)
    func inflight(_ index: Int) -> UInt64 {
        var sum: Int64 = 0
        for worker in 0..<workerColumns {
            sum &+= Int64(bitPattern: tg_atomic_load_seqcst_u64(inflightWord(index, worker: worker)))
        }
        return UInt64(max(0, sum))
    }
}
