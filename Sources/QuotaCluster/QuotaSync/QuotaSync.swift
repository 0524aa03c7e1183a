#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import SharedState
import Synchronization

/// The controller's quota loop, on its own thread (never a worker's event loop): it leases
/// slices of every cluster-wide limit from Redis into the pod's quota table, renews and
/// returns them, and garbage-collects the table.
///
/// Lease protocol (one atomic `LeaseScript` call per lease operation, pipelined per round;
/// never one per request):
/// - Workers spend the slot's allowance with a CAS in shared memory. When it runs low (below
///   the refill threshold, or too small for a request, which then waits on its event loop)
///   they raise the slot's demand and bump the table's demand sequence; this loop polls that
///   sequence every millisecond and leases at once, besides its full round every
///   `intervalMilliseconds`.
/// - A lease call reports the slot's absolute granted (G) and consumed (U = G − allowance)
///   and asks for a slice sized from the pod's recent rate (`LeasePlanner`); Redis grants at
///   most a quarter of what is left per live participant, so slices shrink to the waiting
///   request's cost near exhaustion. Refusals are remembered in the slot (workers answer 429
///   without asking) until Redis says the units come back, at most a second.
/// - Holds are renewed every ttl/3, given back after ttl/2 without consumption and at
///   shutdown; a dead pod's holds go back when its lease expires (ttl).
/// Bound: everything admitted was granted, so the cluster admits at most the limit plus what
/// leases spent without Redis knowing: the spending of a pod that died since its last call
/// (≤ its holds), of holds that expired during a Redis outage (≤ the outstanding leases), one
/// credit per limit and pod (provider budgets), settlements above their estimate, and during an
/// outage the fail-open shares. It does not grow with the arrival rate.
///
/// Threading: `start()` runs the loop on its own thread; `syncOnce()`, `releaseAll()` and
/// `collectGarbage()` are for tests and tools that drive rounds themselves (and for the
/// controller's shutdown, after `stop()`).
public final class QuotaSync: @unchecked Sendable {
    /// What one round did.
    public enum RoundOutcome: Sendable, Equatable {
        /// No Redis configured.
        case disabled
        /// `keys` leased slots looked at, `calls` lease calls made.
        case synced(keys: Int, calls: Int)
        case failed(RedisClientError)
    }

    public let table: QuotaTable
    public let settings: QuotaSyncSettings
    public let planner: LeasePlanner
    private let logger: Logger
    private let client: RedisClient?
    private var health = SyncHealth()
    private var halfClaimed: Set<Int> = []
    private var activity: [Int: (key: UInt64, activity: LeasePlanner.Activity)] = [:]
    /// Set when Redis came back after an outage: the next full round reports every slot.
    private var reconcileNext = false
    /// The id of the Redis life this pod last saw ("" before the first answer).
    private var knownEpoch = ""
    /// Monotonic ms of the last answer from Redis (health pings only when nothing else talked).
    private var lastContact: UInt64 = 0
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    public init(table: QuotaTable, settings: QuotaSyncSettings, logger: Logger) {
        self.table = table
        self.settings = settings
        self.logger = logger
        planner = LeasePlanner(ttlMilliseconds: settings.leaseTTLMilliseconds, intervalMilliseconds: settings.intervalMilliseconds)
        client = settings.redis.map { RedisClient(endpoint: $0) }
        table.setClusterSyncState(settings.redis == nil ? .none : table.clusterSyncState)
    }

    /// The Redis key of a leased slot: the prefix, `lease:` and the slot key (a hash of
    /// definition, scope and window), identical on every pod with the same config.
    public func redisKey(_ key: UInt64) -> String {
        Self.redisKey(prefix: settings.keyPrefix + "lease:", key: key)
    }

    /// The key holding the id of this Redis's life (see `LeaseScript`).
    var epochKey: String { settings.keyPrefix + "lease-epoch" }

    /// Milliseconds in which a Redis that lost its data grants nothing, while pods report.
    var rebuildWindowMilliseconds: Int { settings.leaseTTLMilliseconds / 3 + 2 * settings.intervalMilliseconds }

    static func redisKey(prefix: String, key: UInt64) -> String {
        let hex = String(key, radix: 16)
        return prefix + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The name of a slot incarnation in Redis: pod id and participant number.
    func participantName(_ participant: UInt64) -> String {
        String(table.podID, radix: 16) + "." + String(participant)
    }

    /// One round now. `full` rounds observe traffic, renew and release; demand rounds only
    /// serve slots that need units.
    public func syncOnce(full: Bool = true, unixNanoseconds: UInt64 = QuotaClock.unixNanoseconds()) -> RoundOutcome {
        guard let client else { return .disabled }
        let now = table.tableTime(unixNanoseconds: unixNanoseconds)
        let slots = table.leaseSlots()
        var pending: [LeaseCall] = []
        var idle: [(QuotaTable.LeaseSlot, QuotaTable.LeaseState, LeasePlanner.Activity)] = []
        var seen: Set<Int> = []
        func enqueue(_ slot: QuotaTable.LeaseSlot, _ rate: Double, want: Int64, need: Int64, release: Int64) {
            _ = table.takeBack(slot, upTo: release)
            guard let current = table.leaseState(slot) else { return }
            let participant = table.participant(slot)
            pending.append(LeaseCall(slot: slot, need: need, keys: [redisKey(slot.key), epochKey], arguments: [
                participantName(participant), String(current.granted), String(current.consumed), String(want), String(need),
                String(settings.leaseTTLMilliseconds), slot.rolling ? "r" : "c", String(slot.limit),
                String(span(slot, now: now)), current.lastCall == 0 ? "1" : "0", knownEpoch, String(rebuildWindowMilliseconds),
            ]))
        }
        for slot in slots {
            guard let state = table.leaseState(slot) else { continue }
            seen.insert(slot.index)
            var memory = activity[slot.index].flatMap { $0.key == slot.key ? $0.activity : nil } ?? LeasePlanner.Activity()
            if full || memory.lastSample == 0 { planner.observe(&memory, consumed: state.consumed, now: now) }
            activity[slot.index] = (slot.key, memory)
            guard case .call(let want, let need, let release) = planner.decide(state, activity: memory, now: now, full: full,
                                                                              reconcile: full && reconcileNext) else {
                if state.demand > 0 && state.allowance >= Int64(clamping: state.demand) { table.clearDemand(slot) }
                idle.append((slot, state, memory))
                continue
            }
            if state.demand > 0 { table.clearDemand(slot) }
            enqueue(slot, memory.rate, want: want, need: need, release: release)
        }
        if !pending.isEmpty {
            for (slot, state, memory) in idle {
                if case .call(let want, let need, let release) = planner.piggyback(state, activity: memory, now: now) {
                    enqueue(slot, memory.rate, want: want, need: need, release: release)
                }
            }
        }
        if full { activity = activity.filter { seen.contains($0.key) } }
        let outcome: RoundOutcome
        do {
            try call(pending, client: client, now: now)
            outcome = .synced(keys: slots.count, calls: pending.count)
            if full { reconcileNext = false }
        } catch {
            outcome = .failed(error)
        }
        record(outcome)
        return outcome
    }

    /// Gives every positive allowance back to Redis (the controller's shutdown: the workers
    /// have drained). Best effort: a Redis that is down keeps the holds until they expire.
    @discardableResult
    public func releaseAll(unixNanoseconds: UInt64 = QuotaClock.unixNanoseconds()) -> RoundOutcome {
        guard let client else { return .disabled }
        let now = table.tableTime(unixNanoseconds: unixNanoseconds)
        var pending: [LeaseCall] = []
        let slots = table.leaseSlots()
        for slot in slots {
            guard let state = table.leaseState(slot), state.allowance != 0 || state.lastCall != 0 else { continue }
            _ = table.takeBack(slot, upTo: state.allowance)
            guard let current = table.leaseState(slot), current.lastCall != 0 else { continue }
            pending.append(LeaseCall(slot: slot, need: 0, keys: [redisKey(slot.key), epochKey], arguments: [
                participantName(table.participant(slot)), String(current.granted), String(current.consumed), "0", "0",
                String(settings.leaseTTLMilliseconds), slot.rolling ? "r" : "c", String(slot.limit), String(span(slot, now: now)), "0",
                knownEpoch, String(rebuildWindowMilliseconds),
            ]))
        }
        do {
            try call(pending, client: client, now: now)
            return .synced(keys: slots.count, calls: pending.count)
        } catch {
            return .failed(error)
        }
    }

    /// Runs the lease calls pipelined, `batchSize` per round trip, and applies the answers.
    /// One lease call of a round.
    struct LeaseCall {
        var slot: QuotaTable.LeaseSlot
        var need: Int64
        var keys: [String]
        var arguments: [String]
    }

    private func call(_ pending: [LeaseCall], client: RedisClient, now: UInt64) throws(RedisClientError) {
        guard !pending.isEmpty else {
            // Nothing to lease: a ping only to notice that Redis came back, or after a second
            // of silence (so the health in /metrics stays true); never per round at steady load.
            let ms = RedisClient.monotonicMilliseconds()
            guard isUnavailable || ms - lastContact >= 1_000 else { return }
            let reply = try client.command(["PING"])
            table.recordLeaseTraffic(roundTrips: 1, calls: 0)
            lastContact = ms
            if case .error(let message) = reply { throw .server(message) }
            return
        }
        var firstProblem: RedisClientError?
        for start in stride(from: 0, to: pending.count, by: settings.batchSize) {
            let batch = pending[start..<min(start + settings.batchSize, pending.count)]
            let replies = try client.evaluateBatch(LeaseScript.script, calls: batch.map { ($0.keys, $0.arguments) })
            table.recordLeaseTraffic(roundTrips: 1, calls: UInt64(batch.count))
            lastContact = RedisClient.monotonicMilliseconds()
            for (item, reply) in zip(batch, replies) {
                guard case .array(let fields) = reply, fields.count == 5, let grant = fields[0].integer, let left = fields[1].integer,
                      let live = fields[2].integer, let retry = fields[3].integer, let epoch = fields[4].string else {
                    firstProblem = firstProblem ?? (reply.string.map { .server($0) } ?? .unexpectedReply("lease script returned \(reply)"))
                    continue
                }
                if epoch != knownEpoch {
                    // A Redis that lost its data (or the first answer): report every slot now.
                    if !knownEpoch.isEmpty { reconcileNext = true }
                    knownEpoch = epoch
                }
                var memory = activity[item.slot.index].flatMap { $0.key == item.slot.key ? $0.activity : nil } ?? LeasePlanner.Activity()
                let answer = planner.answer(grant: grant, left: left, live: live, retryMicroseconds: retry, need: item.need,
                                            slot: item.slot, activity: &memory, now: now)
                activity[item.slot.index] = (item.slot.key, memory)
                table.applyLease(item.slot, answer, now: now)
            }
        }
        if let firstProblem { throw firstProblem }
    }

    /// Rolling: the period in µs; calendar: the key's expiry in ms (window end plus GC grace).
    private func span(_ slot: QuotaTable.LeaseSlot, now: UInt64) -> UInt64 {
        if slot.rolling { return max(1, slot.periodOrWindowEnd / 1_000) }
        let graceMs = UInt64(max(0, settings.gcGraceSeconds)) * 1_000
        return max(1_000, slot.periodOrWindowEnd.subtractingSaturatingForLease(now) / 1_000_000 + graceMs)
    }

    private func record(_ outcome: RoundOutcome) {
        let nowMs = RedisClient.monotonicMilliseconds()
        let actions: SyncHealth.Actions
        switch outcome {
        case .disabled:
            return
        case .synced:
            actions = health.roundSucceeded(nowMilliseconds: nowMs)
            table.recordSyncRound(succeeded: true, outageStarted: false)
        case .failed(let error):
            actions = health.roundFailed(nowMilliseconds: nowMs)
            table.recordSyncRound(succeeded: false, outageStarted: actions.logOutage)
            if actions.logOutage {
                logger.warning("quota sync: Redis unavailable; pods spend their current leases, then fail-open limits run on a local share and fail-closed ones reject",
                               metadata: ["redis": "\(settings.redis?.description ?? "")", "error": "\(error)"])
            }
        }
        if let state = actions.publish { table.setClusterSyncState(state) }
        if let ms = actions.recoveredAfterMilliseconds {
            reconcileNext = true
            logger.info("quota sync: Redis is back; leases reconciled", metadata: ["outage_ms": "\(ms)"])
        }
    }

    /// Whether the last round failed (demand rounds are skipped then: the full round retries).
    var isUnavailable: Bool {
        if case .unavailable = health.state { return true }
        return false
    }

    /// One garbage-collection pass over the table.
    @discardableResult
    public func collectGarbage(unixNanoseconds: UInt64 = QuotaClock.unixNanoseconds()) -> Int {
        table.collectGarbage(unixNanoseconds: unixNanoseconds, grace: UInt64(max(0, settings.gcGraceSeconds)) * 1_000_000_000,
                             halfClaimed: &halfClaimed)
    }

    // MARK: - Thread

    /// Starts the loop on a new thread.
    public func start() {
        let thread = Thread { [self] in
            loop()
            finished.signal()
        }
        thread.name = "tollgate-quota-sync"
        thread.start()
    }

    /// Stops the loop after its current round and waits for it (up to `timeout` seconds).
    public func stop(timeout: Double = 5) {
        stopping.store(true, ordering: .releasing)
        _ = finished.wait(timeout: .now() + timeout)
    }

    private func loop() {
        let interval = UInt64(client == nil ? settings.gcIntervalMilliseconds : settings.intervalMilliseconds)
        var lastGC = RedisClient.monotonicMilliseconds()
        var lastFull: UInt64 = 0
        var demandSeen = table.leaseDemandSequence
        while !stopping.load(ordering: .acquiring) {
            let now = RedisClient.monotonicMilliseconds()
            if lastFull == 0 || now - lastFull >= interval {
                lastFull = now
                demandSeen = table.leaseDemandSequence
                _ = syncOnce(full: true)
                if now - lastGC >= UInt64(settings.gcIntervalMilliseconds) {
                    lastGC = now
                    let reclaimed = collectGarbage()
                    if reclaimed > 0 { logger.debug("quota table: reclaimed idle slots", metadata: ["slots": "\(reclaimed)"]) }
                }
            } else if client != nil, table.leaseDemandSequence != demandSeen, !isUnavailable {
                demandSeen = table.leaseDemandSequence
                _ = syncOnce(full: false)
            }
            // Demand is polled every millisecond (one atomic load); without Redis only the GC runs.
            usleep(client == nil ? 50_000 : 1_000)
        }
    }
}
