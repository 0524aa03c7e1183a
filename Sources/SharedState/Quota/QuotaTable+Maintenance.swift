import CTollgate

/// Maintenance done outside the request path: the supervisor's cleanup after a worker died,
/// and the controller's garbage collection.
extension QuotaTable {
    /// Zeroes worker `worker`'s in-flight counters. The supervisor calls it after reaping a
    /// dead worker and before spawning its replacement (which reuses the column), so the
    /// concurrency slots held by requests that died with the process are released. Returns
    /// how many in-flight requests were released.
    @discardableResult
    public func releaseAll(worker: Int) -> UInt64 {
        guard worker >= 0 && worker < workerColumns else { return 0 }
        var released: Int64 = 0
        for index in 0..<capacity {
            guard tg_atomic_load_u64(slotWord(index, SlotField.key)) != 0,
                  tg_atomic_load_u64(slotWord(index, SlotField.meta)) & 0xff == QuotaLimit.Kind.concurrent.rawValue else { continue }
            released &+= Int64(bitPattern: tg_atomic_exchange_u64(inflightWord(index, worker: worker), 0))
        }
        return UInt64(max(0, released))
    }

    /// One pass of garbage collection (controller only; safe against concurrent workers):
    /// reclaims slots whose limit is at rest for longer than `grace` nanoseconds — a GCRA
    /// TAT in the past, a calendar window that ended, a concurrency limit with nothing in
    /// flight and no use, a leased rolling limit holding and owing nothing with no Redis call
    /// for `grace`. A slot a
    /// dead process left half-claimed is reclaimed when it is still so on the next pass
    /// (`halfClaimed` carries them between passes). Returns the number reclaimed.
    public func collectGarbage(unixNanoseconds: UInt64 = QuotaClock.unixNanoseconds(), grace: UInt64,
                               halfClaimed: inout Set<Int>) -> Int {
        let now = tableTime(unixNanoseconds: unixNanoseconds)
        var reclaimed = 0
        var stillHalf: Set<Int> = []
        for index in 0..<capacity {
            let key = tg_atomic_load_u64(slotWord(index, SlotField.key))
            guard key != 0 else { continue }
            let value = tg_atomic_load_seqcst_u64(slotWord(index, SlotField.value))
            if value & Self.reclaimFlag != 0 {  // a reclaim interrupted by a crash
                finishReclaim(index, key: key)
                reclaimed += 1
                continue
            }
            let meta = tg_atomic_load_u64(slotWord(index, SlotField.meta))
            if meta == 0 {
                if halfClaimed.contains(index), beginReclaim(index, observed: value) {
                    finishReclaim(index, key: key)
                    reclaimed += 1
                } else {
                    stillHalf.insert(index)
                }
                continue
            }
            let aux = tg_atomic_load_u64(slotWord(index, SlotField.aux))
            let leased = meta & Self.leasedFlag != 0
            switch QuotaLimit.Kind(rawValue: meta & 0xff) {
            case .rolling where leased:
                guard value == Self.leaseBias, tg_atomic_load_u64(slotWord(index, SlotField.demand)) == 0,
                      tg_atomic_load_u64(slotWord(index, SlotField.lastCall)).addingSaturating(grace) < now else { continue }
            case .rolling:
                guard value.addingSaturating(grace) < now else { continue }
            case .calendar:
                guard aux.addingSaturating(grace) < now else { continue }
            case .concurrent:
                guard inflight(index) == 0, aux.addingSaturating(grace) < now else { continue }
            case nil:
                continue
            }
            guard beginReclaim(index, observed: value) else { continue }
            // A concurrency request may have incremented its column just before the flag
            // went up; it re-checks the flag after incrementing, we re-check the columns.
            if QuotaLimit.Kind(rawValue: meta & 0xff) == .concurrent && inflight(index) != 0 {
                var flagged = value | Self.reclaimFlag
                _ = tg_atomic_cas_seqcst_u64(slotWord(index, SlotField.value), &flagged, value)
                continue
            }
            finishReclaim(index, key: key)
            reclaimed += 1
        }
        halfClaimed = stillHalf
        return reclaimed
    }
}
