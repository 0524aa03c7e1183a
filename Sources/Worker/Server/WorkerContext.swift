import Logging
import QuotaCluster
import NIOCore
import NIOPosix
import SharedState

/// Everything one worker's connections share, confined to the worker's single event loop
/// (a worker is one event loop, like an nginx worker; scale out with more workers). Because
/// of that confinement, none of it needs a lock.
///
/// Confined to the worker's single event loop; it is marked `Sendable` only so it can be
/// captured by that loop's future callbacks and scheduled tasks. Never touch it elsewhere.
final class WorkerContext: @unchecked Sendable {
    let workerID: Int
    let eventLoop: EventLoop
    let configStore: ConfigStore
    let pool: UpstreamPool
    let stats: WorkerStats?
    let controlBlock: ControlBlock?
    /// The pod's quota table (nil only in tests that build a worker without one).
    var quotaTable: QuotaTable?
    /// The pod's usage aggregates (nil in tests that build a worker without one).
    var usage: UsageTable?
    private var strictPool: StrictQuotaPool?
    private var wafPool: NIOThreadPool?

    /// One thread for WAF inspections, started when a config first enables the WAF. One, so
    /// a worker's inspections never overlap (the engine is used by one thread at a time).
    func wafThread(for config: RuntimeConfig) -> NIOThreadPool? {
        guard config.waf != nil else { return nil }
        if let wafPool { return wafPool }
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        wafPool = pool
        return pool
    }

    /// The strict-quota thread pool for `config`'s Redis, built on first need and rebuilt when
    /// the Redis settings change; nil when no limit is strict.
    func strictQuotaPool(for config: RuntimeConfig) -> StrictQuotaPool? {
        guard let settings = config.quotaPlan.strictSync else { return nil }
        if let pool = strictPool, pool.settings == settings { return pool }
        let pool = StrictQuotaPool(settings: settings)
        strictPool = pool
        return pool
    }

    /// This worker's column in the quota table (concurrency counts per worker).
    var quotaWorker: Int { quotaTable.map { workerID % $0.workerColumns } ?? 0 }
    let logger: Logger
    let accessLog: Bool
    /// Backend id → until when it asked not to be called (`retry-after`).
    var cooldowns: [String: NIODeadline] = [:]
    var connections: [ObjectIdentifier: GatewayConnectionHandler] = [:]
    var draining = false
    var onDrained: (() -> Void)?
    private var rng: SplitMix64
    private var requestCounter: UInt64 = 0
    private var sweeper: RepeatedTask?

    init(workerID: Int, eventLoop: EventLoop, configStore: ConfigStore, pool: UpstreamPool,
         controlBlock: ControlBlock?, logger: Logger, accessLog: Bool) {
        self.workerID = workerID
        self.eventLoop = eventLoop
        self.configStore = configStore
        self.pool = pool
        self.controlBlock = controlBlock
        self.stats = controlBlock.map { $0.stats(slot: workerID % $0.workerSlots) }
        self.logger = logger
        self.accessLog = accessLog
        var seed = UInt64(truncatingIfNeeded: NIODeadline.now().uptimeNanoseconds)
        seed ^= UInt64(workerID) << 48
        self.rng = SplitMix64(seed: seed)
    }

    func nextRandom() -> UInt64 { rng.next() }

    /// A request id unique across workers and restarts: random prefix + worker + counter.
    func makeRequestID() -> String {
        requestCounter &+= 1
        let r = rng.next()
        return "req_" + String(r, radix: 16) + String(requestCounter, radix: 16)
    }

    func register(_ handler: GatewayConnectionHandler) {
        connections[ObjectIdentifier(handler)] = handler
        stats?.add(.activeConnections)
    }

    func unregister(_ handler: GatewayConnectionHandler) {
        if connections.removeValue(forKey: ObjectIdentifier(handler)) != nil {
            stats?.subtract(.activeConnections)
        }
        if draining && connections.isEmpty {
            onDrained?()
            onDrained = nil
        }
    }

    /// One timer for every deadline of every connection (read, idle, upstream), checked four
    /// times a second: cheaper than scheduling a timer per request, and precise enough for
    /// timeouts measured in seconds. It also looks for a new config generation, so a worker
    /// that receives no request still swaps within a tick of a reload instead of serving its
    /// first request after one with the old config.
    func startSweeper() {
        sweeper = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(250), delay: .milliseconds(250)) { [weak self] _ in
            guard let self else { return }
            _ = self.configStore.config()
            let now = NIODeadline.now()
            for handler in Array(self.connections.values) {
                handler.checkDeadlines(now: now)
            }
            if let stats = self.stats { self.pool.publish(to: stats) }
            if !self.cooldowns.isEmpty {
                self.cooldowns = self.cooldowns.filter { $0.value > now }
            }
        }
    }

    /// Stops accepting work: idle connections close now, busy ones after their response.
    func beginDrain() {
        draining = true
        for handler in Array(connections.values) {
            handler.drain()
        }
        if connections.isEmpty {
            onDrained?()
            onDrained = nil
        }
    }

    func stopSweeper() {
        sweeper?.cancel()
        sweeper = nil
    }
}
