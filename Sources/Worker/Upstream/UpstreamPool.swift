import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SharedState
import TollgateCore
import Config

/// Keep-alive connections to upstream origins, owned by one event loop (a worker runs exactly
/// one), so it needs no locks: every method must be called on `eventLoop`.
///
/// The rules (per-origin cap, bounded wait queue, LIFO reuse, idle reaping, stale removal) live
/// in `UpstreamPoolStateMachine`; this shell only feeds it events (lease requests, connect
/// results, releases, channel closes, timers) and performs the actions it returns.
///
/// Confined to the worker's single event loop; it is marked `Sendable` only so it can be
/// captured by that loop's future callbacks and scheduled tasks. Never touch it elsewhere.
final class UpstreamPool: @unchecked Sendable {
    /// A lease that waits for a connection: to be opened, or released by another request.
    private struct Waiter {
        var promise: EventLoopPromise<(UpstreamConnection, reused: Bool)>
        var target: UpstreamTarget
        var connectTimeout: TimeAmount
        var timeout: Scheduled<Void>?
    }

    let eventLoop: EventLoop
    private var machine: UpstreamPoolStateMachine
    private var connections: [Int: UpstreamConnection] = [:]
    private var waiters: [Int: Waiter] = [:]
    private var idleTimer: Scheduled<Void>?
    private var tlsContext: NIOSSLContext?
    private let tlsConfiguration: TLSConfiguration

    static let defaultIdleTimeout = TimeAmount.milliseconds(Int64(GatewayConfig.Limits().upstreamKeepaliveTimeoutMs))

    /// Config milliseconds as the machine's nanoseconds, saturating (the config caps them anyway).
    static func nanos(milliseconds: Int) -> UInt64 {
        Saturating.multiply(Saturating.uint64(milliseconds), 1_000_000)
    }

    init(eventLoop: EventLoop, maxIdlePerOrigin: Int,
         maxConnectionsPerOrigin: Int = GatewayConfig.Limits().maxUpstreamConnectionsPerOrigin,
         maxWaitQueue: Int = GatewayConfig.Limits().maxUpstreamWaitQueue,
         idleTimeout: TimeAmount = UpstreamPool.defaultIdleTimeout,
         tlsConfiguration: TLSConfiguration = .makeClientConfiguration()) {
        self.eventLoop = eventLoop
        self.machine = UpstreamPoolStateMachine(configuration: .init(
            maxConnectionsPerOrigin: maxConnectionsPerOrigin, maxIdlePerOrigin: maxIdlePerOrigin,
            maxWaitQueue: maxWaitQueue, idleTimeoutNanos: UInt64(clamping: idleTimeout.nanoseconds)))
        self.tlsConfiguration = tlsConfiguration
    }

    /// Applies the pool limits of a new config generation.
    func update(limits: GatewayConfig.Limits) {
        eventLoop.preconditionInEventLoop()
        var c = machine.configuration
        c.maxIdlePerOrigin = limits.upstreamMaxIdleConnections
        c.maxConnectionsPerOrigin = limits.maxUpstreamConnectionsPerOrigin
        c.maxWaitQueue = limits.maxUpstreamWaitQueue
        c.idleTimeoutNanos = Self.nanos(milliseconds: limits.upstreamKeepaliveTimeoutMs)
        machine.updateConfiguration(c)
    }

    /// A pooled connection if one is idle, else a new one (or one released by another request
    /// once the origin is at its cap). `reused` tells the caller whether a failure before any
    /// response byte may be a stale keep-alive connection (retry once with `forceNew`).
    /// Fails with `UpstreamPoolError` when the wait queue is full or the wait times out
    /// (after `connectTimeout`), or with the connect error.
    func acquire(_ target: UpstreamTarget, connectTimeout: TimeAmount, forceNew: Bool = false) -> EventLoopFuture<(UpstreamConnection, reused: Bool)> {
        lease(target, connectTimeout: connectTimeout, forceNew: forceNew).future
    }

    /// A lease request: its future, and while it waits for a connection the id
    /// `cancel(waiter:)` takes to give up its place in the queue.
    struct Lease {
        var future: EventLoopFuture<(UpstreamConnection, reused: Bool)>
        var waiterID: Int?
    }

    /// `acquire`, keeping the handle to cancel the wait (see `cancel(waiter:)`).
    func lease(_ target: UpstreamTarget, connectTimeout: TimeAmount, forceNew: Bool = false) -> Lease {
        eventLoop.preconditionInEventLoop()
        let origin = target.origin
        while true {
            switch machine.leaseRequested(origin: origin, fresh: forceNew) {
            case .leaseIdle(let id):
                guard let conn = connections[id], conn.isActive else {
                    // Closed while idle and not yet reported: drop it and ask again.
                    perform(machine.connectionFoundStale(id))
                    continue
                }
                return Lease(future: eventLoop.makeSucceededFuture((conn, reused: true)), waiterID: nil)
            case .wait(let waiterID, let connectionAction):
                let promise = eventLoop.makePromise(of: (UpstreamConnection, reused: Bool).self)
                let timeout = eventLoop.scheduleTask(in: connectTimeout) { [weak self] in
                    guard let self else { return }
                    self.perform(self.machine.waiterTimedOut(waiterID))
                }
                waiters[waiterID] = Waiter(promise: promise, target: target, connectTimeout: connectTimeout, timeout: timeout)
                perform(connectionAction)
                return Lease(future: promise.futureResult, waiterID: waiterID)
            case .fail(let reason):
                return Lease(future: eventLoop.makeFailedFuture(UpstreamPoolError(reason, origin: origin, limits: machine.configuration, waitedFor: nil)),
                             waiterID: nil)
            }
        }
    }

    /// The lessee of a waiting lease gave up: it leaves the queue and its future fails with
    /// `UpstreamPoolError.Kind.cancelled`. Nothing happens if it was already served or failed.
    func cancel(waiter id: Int) {
        eventLoop.preconditionInEventLoop()
        perform(machine.waiterCancelled(id))
    }

    /// Returns a connection after a complete response; closes it when it cannot be reused.
    func release(_ conn: UpstreamConnection) {
        eventLoop.preconditionInEventLoop()
        conn.releaseLease()
        let reusable = conn.reusable && conn.isActive && conn.handler.lastResponseKeepAlive
        perform(machine.connectionReleased(conn.id, reusable: reusable, now: NIODeadline.now().uptimeNanoseconds))
    }

    /// Closes every idle connection and fails every waiter (worker shutdown).
    func closeAll() {
        eventLoop.preconditionInEventLoop()
        idleTimer?.cancel()
        idleTimer = nil
        perform(machine.shutdown())
    }

    /// Connections (connecting, leased, idle) and idle ones to `origin`, and its waiters.
    func counts(origin: String) -> (connections: Int, idle: Int, waiters: Int) {
        eventLoop.preconditionInEventLoop()
        return (machine.connectionCount(origin: origin), machine.idleCount(origin: origin), machine.waiterCount(origin: origin))
    }

    /// Writes the pool's totals into the worker's gauges (`/metrics`); the worker's sweeper
    /// calls it a few times a second.
    func publish(to stats: WorkerStats) {
        eventLoop.preconditionInEventLoop()
        let t = machine.totals()
        stats.set(.upstreamConnections, UInt64(t.connections))
        stats.set(.upstreamIdleConnections, UInt64(t.idle))
        stats.set(.upstreamWaiters, UInt64(t.waiters))
    }

    // MARK: - Performing actions

    private func perform(_ action: UpstreamPoolStateMachine.Action) {
        switch action.request {
        case .none:
            break
        case .handOver(let id, let waiterID, let reused):
            guard let conn = connections[id] else {
                // Cannot happen (the machine only hands over connections it saw established).
                fail(waiterID, .shutDown)
                break
            }
            succeed(waiterID, conn, reused: reused)
        case .failWaiter(let waiterID, let reason):
            fail(waiterID, reason)
        case .failWaiters(let ids, let reason):
            for id in ids { fail(id, reason) }
        }
        perform(action.connection)
    }

    private func perform(_ action: UpstreamPoolStateMachine.ConnectionAction) {
        switch action {
        case .none:
            break
        case .create(let id, let waiterID):
            create(id, for: waiterID)
        case .close(let id):
            connections[id]?.close()
        case .closeAndCreate(let close, let id, let waiterID):
            connections[close]?.close()
            create(id, for: waiterID)
        case .park(let id, let at):
            // Keep a read outstanding while idle so a server-side close (or stray bytes) is
            // seen at once and the connection leaves the pool before anyone leases it.
            connections[id]?.read()
            if let at { scheduleIdleTimer(at: at) }
        case .closeIdle(let ids, let at):
            for id in ids { connections[id]?.close() }
            if let at { scheduleIdleTimer(at: at) }
        }
    }

    private func scheduleIdleTimer(at uptimeNanos: UInt64) {
        idleTimer?.cancel()
        idleTimer = eventLoop.scheduleTask(deadline: .uptimeNanoseconds(uptimeNanos)) { [weak self] in
            guard let self else { return }
            self.idleTimer = nil
            self.perform(self.machine.idleTimerFired(now: NIODeadline.now().uptimeNanoseconds))
        }
    }

    private func succeed(_ waiterID: Int, _ conn: UpstreamConnection, reused: Bool) {
        guard let waiter = waiters.removeValue(forKey: waiterID) else {
            // The waiter is gone (cannot happen: the machine forgets it first); do not leak.
            perform(machine.connectionReleased(conn.id, reusable: false, now: NIODeadline.now().uptimeNanoseconds))
            return
        }
        waiter.timeout?.cancel()
        waiter.promise.succeed((conn, reused: reused))
    }

    private func fail(_ waiterID: Int, _ reason: UpstreamPoolStateMachine.FailureReason) {
        guard let waiter = waiters[waiterID] else { return }
        fail(waiterID, UpstreamPoolError(reason, origin: waiter.target.origin, limits: machine.configuration,
                                         waitedFor: waiter.connectTimeout))
    }

    private func fail(_ waiterID: Int, _ error: any Error) {
        guard let waiter = waiters.removeValue(forKey: waiterID) else { return }
        waiter.timeout?.cancel()
        waiter.promise.fail(error)
    }

    private func create(_ id: Int, for waiterID: Int) {
        guard let waiter = waiters[waiterID] else {
            // Every create names a registered waiter; without one the connect has no target.
            perform(machine.connectionFailed(id))
            return
        }
        connect(waiter.target, connectTimeout: waiter.connectTimeout, id: id).whenComplete { [weak self] result in
            guard let self else {
                if case .success(let conn) = result { conn.close() }
                return
            }
            switch result {
            case .success(let conn):
                self.connections[id] = conn
                conn.channel.closeFuture.whenComplete { [weak self] _ in
                    guard let self else { return }
                    self.connections[id] = nil
                    self.perform(self.machine.connectionClosed(id))
                }
                self.perform(self.machine.connectionEstablished(id, now: NIODeadline.now().uptimeNanoseconds))
            case .failure(let error):
                let action = self.machine.connectionFailed(id)
                if case .failWaiter(let failed, .connectFailed) = action.request {
                    // The connect's own error, so the caller can tell a timeout from a refusal.
                    self.fail(failed, error)
                    self.perform(action.connection)
                } else {
                    self.perform(action)
                }
            }
        }
    }

    private func sslContext() throws -> NIOSSLContext {
        if let tlsContext { return tlsContext }
        let ctx = try NIOSSLContext(configuration: tlsConfiguration)
        tlsContext = ctx
        return ctx
    }

    private func connect(_ target: UpstreamTarget, connectTimeout: TimeAmount, id: Int) -> EventLoopFuture<UpstreamConnection> {
        let ssl: NIOSSLContext?
        do {
            ssl = target.scheme == .https ? try sslContext() : nil
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let serverName = target.host.isIPAddress ? nil : target.host
        let handler = UpstreamClientHandler()
        let future = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.autoRead, value: false)
            .channelInitializer { channel in
                do {
                    let sync = channel.pipeline.syncOperations
                    if let ssl {
                        try sync.addHandler(try NIOSSLClientHandler(context: ssl, serverHostname: serverName))
                    }
                    try sync.addHTTPClientHandlers(leftOverBytesStrategy: .dropBytes)
                    try sync.addHandler(handler)
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .connect(host: target.host, port: target.port)
        return future.map { channel in
            let conn = UpstreamConnection(channel: channel, origin: target.origin, id: id)
            conn.attach(handler)
            // The pool learns of the close through the channel's close future; a connection
            // that died (or announced it closes) must just never be pooled again.
            handler.onDead = { [weak conn] in conn?.reusable = false }
            return conn
        }
    }
}

extension String {
    /// True for IPv4/IPv6 literals, which must not be sent as TLS SNI.
    var isIPAddress: Bool {
        if contains(":") { return true }
        let parts = split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }
}
