#if canImport(Glibc)
import Glibc
#endif
import Config
import CTollgate
import Dispatch
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import SharedState

/// The worker process (`tollgate worker`, started by the supervisor, never by people).
///
/// One event loop thread serves every connection of this process. It binds each listener
/// with SO_REUSEPORT (so the kernel spreads connections over all workers), maps the control
/// block, loads the current snapshot, and serves until SIGTERM (drain) or SIGINT/SIGQUIT
/// (fast stop). It dies with its supervisor (PR_SET_PDEATHSIG).
public enum WorkerMain {
    public struct Options: Sendable {
        public var workerID: Int
        public var runDirectory: String
        public var accessLog: Bool
        public init(workerID: Int, runDirectory: String, accessLog: Bool) {
            self.workerID = workerID
            self.runDirectory = runDirectory
            self.accessLog = accessLog
        }
    }

    /// Exit codes, so the supervisor's log says why a worker stopped.
    public enum ExitCode: Int32 {
        case drained = 0
        case startupFailed = 70
        case bindFailed = 71
    }

    public static func run(_ options: Options) -> Never {
        _ = tg_set_parent_death_signal(SIGTERM)
        let logger = {
            var l = Logger(label: "tollgate.worker")
            l[metadataKey: "worker"] = "\(options.workerID)"
            return l
        }()
        let paths = RunPaths(runDirectory: options.runDirectory)

        let controlBlock: ControlBlock
        let quotaTable: QuotaTable
        let initial: RuntimeConfig
        do {
            controlBlock = try ControlBlock.open(path: paths.controlBlock)
            quotaTable = try QuotaTable.open(path: paths.quotaTable)
            let snapshot = try SnapshotFile.read(path: paths.snapshot)
            initial = try RuntimeConfig(snapshot.config, generation: snapshot.generation)
        } catch {
            logger.critical("worker cannot start", metadata: ["error": "\(error)"])
            exit(ExitCode.startupFailed.rawValue)
        }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let worker: NIOLoopBound<WorkerContext>
        let channels: [Channel]
        do {
            (worker, channels) = try loop.flatSubmit { () -> EventLoopFuture<(NIOLoopBound<WorkerContext>, [Channel])> in
                let bound = NIOLoopBound(
                    makeWorker(options, initial: initial, loop: loop, controlBlock: controlBlock, quotaTable: quotaTable,
                               snapshotPath: paths.snapshot, logger: logger),
                    eventLoop: loop)
                var binds = initial.source.listeners.map { listener in
                    bind(listener, role: .client, worker: bound, group: group, maxHeaderBytes: initial.limits.maxHeaderBytes)
                }
                if let admin = initial.source.admin {
                    binds.append(bind(admin, role: .admin, worker: bound, group: group, maxHeaderBytes: initial.limits.maxHeaderBytes))
                }
                return EventLoopFuture.whenAllSucceed(binds, on: loop).map { (bound, $0) }
            }.wait()
        } catch {
            logger.critical("worker cannot bind its listeners", metadata: ["error": "\(error)"])
            exit(ExitCode.bindFailed.rawValue)
        }

        // Readiness signal for the supervisor: the pid goes into the slot only once we listen.
        controlBlock.stats(slot: options.workerID % controlBlock.workerSlots).set(.pid, UInt64(getpid()))
        logger.info("worker listening", metadata: [
            "listeners": "\(initial.source.listeners.map { "\($0.address):\($0.port)" }.joined(separator: ","))",
            "generation": "\(initial.generation)",
        ])

        let shutdown = ShutdownCoordinator(loop: loop, worker: worker, channels: channels,
                                           graceMs: initial.limits.shutdownGraceMs, logger: logger)
        let sources = shutdown.installSignalHandlers()
        withExtendedLifetime(sources) {
            dispatchMain()
        }
    }

    private static func makeWorker(_ options: Options, initial: RuntimeConfig, loop: EventLoop, controlBlock: ControlBlock,
                                   quotaTable: QuotaTable, snapshotPath: String, logger: Logger) -> WorkerContext {
        let store = ConfigStore(initial: initial, eventLoop: loop, controlBlock: controlBlock,
                                snapshotPath: snapshotPath, logger: logger)
        let pool = UpstreamPool(eventLoop: loop, maxIdlePerOrigin: initial.limits.upstreamMaxIdleConnections,
                                maxConnectionsPerOrigin: initial.limits.maxUpstreamConnectionsPerOrigin,
                                maxWaitQueue: initial.limits.maxUpstreamWaitQueue,
                                idleTimeout: .milliseconds(Int64(initial.limits.upstreamKeepaliveTimeoutMs)))
        let worker = WorkerContext(workerID: options.workerID, eventLoop: loop, configStore: store, pool: pool,
                                   controlBlock: controlBlock, logger: logger, accessLog: options.accessLog)
        worker.quotaTable = quotaTable
        worker.usage = WorkerContext.openUsageTable(runDirectory: options.runDirectory, logger: logger)
        worker.stats?.set(.activeConnections, 0)
        worker.stats?.set(.configGeneration, initial.generation)
        store.onSwap = { [unowned worker] old, new in
            pool.update(limits: new.limits)
            worker.stats?.set(.configGeneration, new.generation)
            if new.source.quotas.tableSlots != quotaTable.capacity && old.source.quotas.tableSlots != new.source.quotas.tableSlots {
                logger.warning("quotas.table_slots changes take effect after a restart of tollgate serve", metadata: ["slots": "\(quotaTable.capacity)"])
            }
            if old.source.listeners != new.source.listeners || old.source.admin != new.source.admin {
                logger.warning("listener changes take effect after a restart of tollgate serve; still serving the old listeners")
            }
        }
        worker.startSweeper()
        return worker
    }

    private static func bind(_ listener: GatewayConfig.Listener, role: GatewayConnectionHandler.Role, worker: NIOLoopBound<WorkerContext>,
                             group: MultiThreadedEventLoopGroup, maxHeaderBytes: Int) -> EventLoopFuture<Channel> {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = maxHeaderBytes
        limits.maxHeaderFieldSize = maxHeaderBytes
        let decoderLimits = limits
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.socketOption(.init(rawValue: SO_REUSEPORT)), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                let context = worker.value
                if context.draining || context.connections.count >= context.configStore.current.limits.maxConnectionsPerWorker {
                    return channel.close()
                }
                do {
                    let handler = GatewayConnectionHandler(worker: context, role: role)
                    let sync = channel.pipeline.syncOperations
                    let encoder = HTTPResponseEncoder()
                    try sync.addHandler(RequestStartObserver(handler: handler))
                    try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes,
                                                                                 limitConfiguration: decoderLimits)))
                    try sync.addHandler(encoder)
                    try sync.addHandler(HTTPServerPipelineHandler())
                    try sync.addHandler(handler)
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .bind(host: listener.address, port: listener.port)
    }
}

