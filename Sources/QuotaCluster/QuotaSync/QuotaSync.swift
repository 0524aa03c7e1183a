#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import SharedState
import Synchronization

/// The controller's quota loop, on its own thread (never a worker's event loop): every
/// `intervalMilliseconds` it syncs the pod's quota table with Redis, and every
/// `gcIntervalMilliseconds` it garbage-collects the table.
///
/// One sync round, for every slot of a cluster limit:
/// 1. `absorbPending`: the workers' consumption since the last round (an atomic exchange of
///    the slot's pending counter with 0) is added to the pod's own cumulative total.
/// 2. One pipelined EVALSHA per `batchSize` keys runs `script`: per key it stores the pod's
///    own total as an absolute value in a hash field named after the pod (HSET), refreshes the
///    key's expiry (GCRA: two periods; calendar: until the window ends plus the GC grace) and
///    returns the sum of all pods' fields.
/// 3. `applyForeign`: the cluster total minus the pod's own is the other pods' consumption;
///    its growth since the last round is charged into the local slot (GCRA: the TAT advances
///    by cost × emission interval; calendar: the count grows).
/// Because Redis holds absolute per-pod totals, a round that fails half-way is simply
/// repeated: consumption recorded during an outage is pushed once when Redis returns, nothing
/// acknowledged is pushed twice, and a Redis that restarted empty is refilled by every pod's
/// next round. While rounds fail the table's `clusterSyncState` is `.unavailable` (fail-closed
/// limits reject, fail-open ones run on local counts), logged once per outage and counted.
///
/// Overshoot bound (N pods, a cluster limit of rate r per second or a window budget B, sync
/// interval i, network+Redis latency l): a pod learns other pods' consumption at most i + l
/// late, so the cluster can admit at most (N − 1) × r × (i + l) over a GCRA limit, and for a
/// window budget at most (N − 1) × (what one pod admits in i + l) past B, plus each pod's
/// in-flight reservations settled above their estimates. A pod that starts using a rolling key
/// takes its first cluster total as a baseline only (a cumulative total does not say when it
/// was consumed), so it may add one extra burst in that key's first period.
///
/// Threading: `start()` runs the loop on its own thread; `syncOnce()` and `collectGarbage()`
/// are for tests and tools that drive rounds themselves, never while the loop runs.
public final class QuotaSync: @unchecked Sendable {
    /// KEYS: one per slot. ARGV[1]: pod id; then per key: own total, expiry in ms.
    /// Returns the sum of all pods' totals per key (Lua numbers: exact below 2^53).
    public static let script = RedisScript("""
        local pod = ARGV[1]
        local out = {}
        for i = 1, #KEYS do
          redis.call('HSET', KEYS[i], pod, ARGV[2 * i])
          redis.call('PEXPIRE', KEYS[i], ARGV[2 * i + 1])
          local sum = 0
          for _, v in ipairs(redis.call('HVALS', KEYS[i])) do sum = sum + tonumber(v) end
          out[i] = sum
        end
        return out
        """)

    /// What one round did.
    public enum RoundOutcome: Sendable, Equatable {
        /// No Redis configured.
        case disabled
        /// `keys` cluster slots synced; `foreignCharged` units of other pods' consumption charged.
        case synced(keys: Int, foreignCharged: UInt64)
        case failed(RedisClientError)
    }

    public let table: QuotaTable
    public let settings: QuotaSyncSettings
    private let logger: Logger
    private let client: RedisClient?
    private var health = SyncHealth()
    private var halfClaimed: Set<Int> = []
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    public init(table: QuotaTable, settings: QuotaSyncSettings, logger: Logger) {
        self.table = table
        self.settings = settings
        self.logger = logger
        client = settings.redis.map { RedisClient(endpoint: $0) }
        table.setClusterSyncState(settings.redis == nil ? .none : table.clusterSyncState)
    }

    /// Runs one sync round now (the loop calls it; tests drive it directly).
    public func syncOnce(unixNanoseconds: UInt64 = QuotaClock.unixNanoseconds()) -> RoundOutcome {
        guard let client else { return .disabled }
        let slots = table.syncedSlots()
        let owns = slots.map { table.absorbPending($0) }
        let outcome: RoundOutcome
        do {
            outcome = .synced(keys: slots.count, foreignCharged: try push(slots, owns: owns, client: client, unixNanoseconds: unixNanoseconds))
        } catch {
            outcome = .failed(error)
        }
        record(outcome)
        return outcome
    }

    private func push(_ slots: [QuotaTable.SyncedSlot], owns: [Int64], client: RedisClient, unixNanoseconds: UInt64) throws(RedisClientError) -> UInt64 {
        guard !slots.isEmpty else {
            // Nothing to sync, but fail-closed limits still need to know whether Redis is there.
            if case .error(let message) = try client.command(["PING"]) { throw .server(message) }
            return 0
        }
        let now = table.tableTime(unixNanoseconds: unixNanoseconds)
        let pod = String(table.podID, radix: 16)
        let ranges = stride(from: 0, to: slots.count, by: settings.batchSize).map { $0..<min($0 + settings.batchSize, slots.count) }
        let calls = ranges.map { range -> (keys: [String], arguments: [String]) in
            var arguments = [pod]
            arguments.reserveCapacity(1 + range.count * 2)
            for i in range {
                arguments.append(String(owns[i]))
                arguments.append(String(expiryMilliseconds(slots[i], now: now)))
            }
            return (range.map { redisKey(slots[$0].key) }, arguments)
        }
        let replies = try client.evaluateBatch(Self.script, calls: calls)
        var charged: UInt64 = 0
        var firstProblem: RedisClientError?
        for (range, reply) in zip(ranges, replies) {
            guard case .array(let totals) = reply, totals.count == range.count else {
                firstProblem = firstProblem ?? (reply.string.map { .server($0) } ?? .unexpectedReply("script returned \(reply)"))
                continue
            }
            for (i, total) in zip(range, totals) {
                guard let total = total.integer else { continue }
                charged += table.applyForeign(slots[i], foreignTotal: total - owns[i], unixNanoseconds: unixNanoseconds)
            }
        }
        if let firstProblem { throw firstProblem }
        return charged
    }

    /// The Redis key of a slot: the prefix and the slot key (a hash of definition, scope and
    /// window), identical on every pod with the same config.
    public func redisKey(_ key: UInt64) -> String {
        Self.redisKey(prefix: settings.keyPrefix, key: key)
    }

    static func redisKey(prefix: String, key: UInt64) -> String {
        let hex = String(key, radix: 16)
        return prefix + String(repeating: "0", count: 16 - hex.count) + hex
    }

    private func expiryMilliseconds(_ slot: QuotaTable.SyncedSlot, now: UInt64) -> UInt64 {
        let graceMs = UInt64(max(0, settings.gcGraceSeconds)) * 1_000
        if slot.rolling {
            return slot.periodOrWindowEnd / 1_000_000 * 2 + 60_000
        }
        return max(1_000, slot.periodOrWindowEnd.subtractingSaturatingForSync(now) / 1_000_000 + graceMs)
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
                logger.warning("quota sync: Redis unavailable; cluster limits fall back to local enforcement (fail-closed limits reject)",
                               metadata: ["redis": "\(settings.redis?.description ?? "")", "error": "\(error)"])
            }
        }
        if let state = actions.publish { table.setClusterSyncState(state) }
        if let ms = actions.recoveredAfterMilliseconds {
            logger.info("quota sync: Redis is back; consumption recorded during the outage was pushed", metadata: ["outage_ms": "\(ms)"])
        }
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
        while !stopping.load(ordering: .acquiring) {
            let started = RedisClient.monotonicMilliseconds()
            _ = syncOnce()
            if started - lastGC >= UInt64(settings.gcIntervalMilliseconds) {
                lastGC = started
                let reclaimed = collectGarbage()
                if reclaimed > 0 { logger.debug("quota table: reclaimed idle slots", metadata: ["slots": "\(reclaimed)"]) }
            }
            let elapsed = RedisClient.monotonicMilliseconds() - started
            var remaining = interval > elapsed ? interval - elapsed : 0
            // Sleep in short steps so stop() is prompt.
            while remaining > 0 && !stopping.load(ordering: .acquiring) {
                let step = min(remaining, 50)
                usleep(UInt32(step * 1_000))
                remaining -= step
            }
        }
    }
}

extension UInt64 {
    fileprivate func subtractingSaturatingForSync(_ other: UInt64) -> UInt64 {
        self > other ? self - other : 0
    }
}
