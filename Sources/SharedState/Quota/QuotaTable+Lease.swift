import CTollgate

/// The controller's side of leased slots (`QuotaLeaseSync` in QuotaCluster); workers never
/// call these.
///
/// Per leased slot the table keeps everything the lease protocol needs, so a controller that
/// restarts continues where the last one stopped: `granted` (G, cumulative units Redis
/// granted), the allowance in the value word (A, what workers may still spend; the pod's net
/// consumption is U = G − A), the `participant` id that names this slot incarnation in
/// Redis, and the answers workers use without asking (`refusedUntil`, `clusterRemaining`,
/// `share`, `refillBelow`). Workers raise `demand`; the controller clears it.
extension QuotaTable {
    /// One leased slot, as the controller sees it.
    public struct LeaseSlot: Sendable, Hashable {
        public var index: Int
        public var key: UInt64
        /// True for GCRA (rolling) limits, false for calendar windows.
        public var rolling: Bool
        /// Rolling: the period (ns); calendar: the window end (table time).
        public var periodOrWindowEnd: UInt64
        public var limit: UInt64

        public init(index: Int, key: UInt64, rolling: Bool, periodOrWindowEnd: UInt64, limit: UInt64) {
            self.index = index
            self.key = key
            self.rolling = rolling
            self.periodOrWindowEnd = periodOrWindowEnd
            self.limit = limit
        }
    }

    /// A consistent-enough snapshot of a leased slot (the allowance is read once).
    public struct LeaseState: Sendable, Equatable {
        public var allowance: Int64
        public var granted: Int64
        /// 0 until the controller first leased for this slot incarnation.
        public var participant: UInt64
        /// The largest cost a waiting request needs (0 = none waiting).
        public var demand: UInt64
        public var lastCall: UInt64
        public var refusedUntil: UInt64
        /// Units Redis had left unleased at the last answer, and how many pods held leases.
        public var clusterRemaining: UInt64 = 0
        public var participants: UInt64 = 0
        public init(allowance: Int64, granted: Int64, participant: UInt64, demand: UInt64, lastCall: UInt64, refusedUntil: UInt64,
                    clusterRemaining: UInt64 = 0, participants: UInt64 = 0) {
            self.allowance = allowance
            self.granted = granted
            self.participant = participant
            self.demand = demand
            self.lastCall = lastCall
            self.refusedUntil = refusedUntil
            self.clusterRemaining = clusterRemaining
            self.participants = participants
        }

        /// The pod's net consumption so far: U = G − A.
        public var consumed: Int64 { granted &- allowance }
    }

    /// Every slot of a leased limit.
    public func leaseSlots() -> [LeaseSlot] {
        var out: [LeaseSlot] = []
        for index in 0..<capacity {
            let key = tg_atomic_load_u64(slotWord(index, SlotField.key))
            guard key != 0 else { continue }
            let meta = tg_atomic_load_u64(slotWord(index, SlotField.meta))
            guard meta & Self.leasedFlag != 0 else { continue }
            let kind = QuotaLimit.Kind(rawValue: meta & 0xff)
            guard kind == .rolling || kind == .calendar else { continue }
            out.append(LeaseSlot(index: index, key: key, rolling: kind == .rolling,
                                 periodOrWindowEnd: tg_atomic_load_u64(slotWord(index, SlotField.aux)),
                                 limit: tg_atomic_load_u64(slotWord(index, SlotField.limit))))
        }
        return out
    }

    /// The slot's lease state, or nil when the slot no longer holds `slot.key`.
    public func leaseState(_ slot: LeaseSlot) -> LeaseState? {
        guard tg_atomic_load_u64(slotWord(slot.index, SlotField.key)) == slot.key else { return nil }
        let value = tg_atomic_load_u64(slotWord(slot.index, SlotField.value))
        guard value & Self.reclaimFlag == 0 else { return nil }
        return LeaseState(allowance: Self.allowance(value),
                          granted: Int64(bitPattern: tg_atomic_load_u64(slotWord(slot.index, SlotField.granted))),
                          participant: tg_atomic_load_u64(slotWord(slot.index, SlotField.participant)),
                          demand: tg_atomic_load_u64(slotWord(slot.index, SlotField.demand)),
                          lastCall: tg_atomic_load_u64(slotWord(slot.index, SlotField.lastCall)),
                          refusedUntil: tg_atomic_load_u64(slotWord(slot.index, SlotField.refusedUntil)),
                          clusterRemaining: tg_atomic_load_u64(slotWord(slot.index, SlotField.clusterRemaining)),
                          participants: tg_atomic_load_u64(slotWord(slot.index, SlotField.participants)))
    }

    /// The slot's participant id, assigned on first use.
    public func participant(_ slot: LeaseSlot) -> UInt64 {
        let word = slotWord(slot.index, SlotField.participant)
        let current = tg_atomic_load_u64(word)
        if current != 0 { return current }
        let id = nextParticipant()
        tg_atomic_store_u64(word, id)
        return id
    }

    /// Clears the waiting demand (before a lease call; requests still short register again).
    public func clearDemand(_ slot: LeaseSlot) {
        tg_atomic_store_u64(slotWord(slot.index, SlotField.demand), 0)
    }

    /// Takes up to `amount` units of positive allowance back from the workers (for a release
    /// to Redis) and lowers `granted` by as much. Returns what was taken.
    public func takeBack(_ slot: LeaseSlot, upTo amount: Int64) -> Int64 {
        guard amount > 0 else { return 0 }
        let valueWord = slotWord(slot.index, SlotField.value)
        while true {
            var value = tg_atomic_load_u64(valueWord)
            guard value & Self.reclaimFlag == 0, tg_atomic_load_u64(slotWord(slot.index, SlotField.key)) == slot.key else { return 0 }
            let take = min(amount, Self.allowance(value))
            guard take > 0 else { return 0 }
            if tg_atomic_cas_u64(valueWord, &value, value - UInt64(take)) {
                _ = tg_atomic_sub_u64(slotWord(slot.index, SlotField.granted), UInt64(take))
                count(.leaseUnitsReturned, UInt64(take))
                return take
            }
        }
    }

    /// What Redis answered to one lease call.
    public struct LeaseAnswer: Sendable, Equatable {
        /// Units added to `granted` and to the allowance (repays owed units first).
        public var grant: Int64
        /// Units Redis still had unleased after this call.
        public var clusterRemaining: UInt64
        /// The fail-open share while Redis is unreachable (units per period or per window).
        public var share: UInt64
        /// Table time until which workers refuse without asking (0 = not refused).
        public var refusedUntil: UInt64
        /// Allowance below which workers register demand (prefetch).
        public var refillBelow: Int64
        /// Pods holding a lease on the key (this one included).
        public var participants: UInt64

        public init(grant: Int64, clusterRemaining: UInt64, share: UInt64, refusedUntil: UInt64, refillBelow: Int64, participants: UInt64 = 1) {
            self.participants = participants
            self.grant = grant
            self.clusterRemaining = clusterRemaining
            self.share = share
            self.refusedUntil = refusedUntil
            self.refillBelow = refillBelow
        }
    }

    /// Applies a lease answer: `granted` first, then the allowance, so a controller killed in
    /// between makes the pod lose the grant (it looks consumed), never spend it twice.
    public func applyLease(_ slot: LeaseSlot, _ answer: LeaseAnswer, now: UInt64) {
        guard tg_atomic_load_u64(slotWord(slot.index, SlotField.key)) == slot.key else { return }
        if answer.grant > 0 {
            _ = tg_atomic_add_u64(slotWord(slot.index, SlotField.granted), UInt64(answer.grant))
            let valueWord = slotWord(slot.index, SlotField.value)
            while true {
                var value = tg_atomic_load_u64(valueWord)
                if value & Self.reclaimFlag != 0 { break }
                if tg_atomic_cas_u64(valueWord, &value, Self.leaseAdd(value, UInt64(answer.grant))) { break }
            }
            count(.leaseUnitsGranted, UInt64(answer.grant))
        }
        tg_atomic_store_u64(slotWord(slot.index, SlotField.clusterRemaining), answer.clusterRemaining)
        tg_atomic_store_u64(slotWord(slot.index, SlotField.share), answer.share)
        tg_atomic_store_u64(slotWord(slot.index, SlotField.refillBelow), UInt64(bitPattern: answer.refillBelow))
        tg_atomic_store_u64(slotWord(slot.index, SlotField.refusedUntil), answer.refusedUntil)
        tg_atomic_store_u64(slotWord(slot.index, SlotField.participants), answer.participants)
        tg_atomic_store_u64(slotWord(slot.index, SlotField.lastCall), max(1, now))
        if answer.refusedUntil > now { count(.leaseRefused) }
    }

    /// Counts lease traffic in the header stats: `calls` scripts in `roundTrips` pipelines.
    public func recordLeaseTraffic(roundTrips: UInt64, calls: UInt64) {
        if roundTrips > 0 { count(.redisRoundTrips, roundTrips) }
        if calls > 0 { count(.leaseCalls, calls) }
    }

    /// Counts a sync round's outcome in the header stats.
    public func recordSyncRound(succeeded: Bool, outageStarted: Bool) {
        count(succeeded ? .syncRounds : .syncFailures)
        if outageStarted { count(.syncOutages) }
    }
}
