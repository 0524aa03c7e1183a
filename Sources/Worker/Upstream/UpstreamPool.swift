import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Keep-alive connections to upstream origins, owned by one event loop (a worker runs exactly
/// one), so it needs no locks: every method must be called on `eventLoop`.
///
/// Connections are reused LIFO (the most recently used is the least likely to have been
/// closed by the server), at most `maxIdlePerOrigin` idle per origin, and an idle connection
/// is closed after `idleTimeout`.
///
/// Confined to the worker's single event loop; it is marked `Sendable` only so it can be
/// captured by that loop's future callbacks and scheduled tasks. Never touch it elsewhere.
final class UpstreamPool: @unchecked Sendable {
    let eventLoop: EventLoop
    private var idle: [String: [UpstreamConnection]] = [:]
    private var tlsContext: NIOSSLContext?
    private let tlsConfiguration: TLSConfiguration
    var maxIdlePerOrigin: Int
    var idleTimeout: TimeAmount
    private var reaper: RepeatedTask?
    private var idleSince: [ObjectIdentifier: NIODeadline] = [:]

    init(eventLoop: EventLoop, maxIdlePerOrigin: Int, idleTimeout: TimeAmount = .seconds(55),
         tlsConfiguration: TLSConfiguration = .makeClientConfiguration()) {
        self.eventLoop = eventLoop
        self.maxIdlePerOrigin = maxIdlePerOrigin
        self.idleTimeout = idleTimeout
        self.tlsConfiguration = tlsConfiguration
    }

    /// A pooled connection if one is idle, else a new one. `reused` tells the caller whether a
    /// failure before any response byte may be a stale keep-alive connection (retry once).
    func acquire(_ target: UpstreamTarget, connectTimeout: TimeAmount, forceNew: Bool = false) -> EventLoopFuture<(UpstreamConnection, reused: Bool)> {
        eventLoop.preconditionInEventLoop()
        let origin = target.origin
        while !forceNew, var list = idle[origin], let conn = list.popLast() {
            idle[origin] = list
            idleSince[ObjectIdentifier(conn)] = nil
            if conn.isActive {
                return eventLoop.makeSucceededFuture((conn, reused: true))
            }
        }
        return connect(target, connectTimeout: connectTimeout).map { ($0, reused: false) }
    }

    /// Returns a connection after a complete response; closes it when it cannot be reused.
    func release(_ conn: UpstreamConnection) {
        eventLoop.preconditionInEventLoop()
        conn.releaseLease()
        guard conn.reusable, conn.isActive, conn.handler.lastResponseKeepAlive else {
            conn.close()
            return
        }
        var list = idle[conn.origin, default: []]
        guard list.count < maxIdlePerOrigin else {
            conn.close()
            return
        }
        list.append(conn)
        idle[conn.origin] = list
        idleSince[ObjectIdentifier(conn)] = .now()
        // Keep a read outstanding while idle so a server-side close (or stray bytes) is seen
        // at once and the connection leaves the pool before anyone leases it.
        conn.read()
        startReaperIfNeeded()
    }

    /// Closes every idle connection (worker shutdown).
    func closeAll() {
        for (_, list) in idle {
            for conn in list { conn.close() }
        }
        idle.removeAll()
        idleSince.removeAll()
        reaper?.cancel()
        reaper = nil
    }

    private func remove(_ conn: UpstreamConnection) {
        guard var list = idle[conn.origin], let i = list.firstIndex(where: { $0 === conn }) else { return }
        list.remove(at: i)
        idle[conn.origin] = list.isEmpty ? nil : list
        idleSince[ObjectIdentifier(conn)] = nil
    }

    private func startReaperIfNeeded() {
        guard reaper == nil else { return }
        let interval = TimeAmount.nanoseconds(max(idleTimeout.nanoseconds / 4, TimeAmount.milliseconds(250).nanoseconds))
        reaper = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in
            self?.reapIdle()
        }
    }

    private func reapIdle() {
        let cutoff = NIODeadline.now() - idleTimeout
        for (_, list) in idle {
            for conn in list where (idleSince[ObjectIdentifier(conn)] ?? .now()) < cutoff {
                remove(conn)
                conn.close()
            }
        }
        if idle.isEmpty {
            reaper?.cancel()
            reaper = nil
        }
    }

    private func sslContext() throws -> NIOSSLContext {
        if let tlsContext { return tlsContext }
        let ctx = try NIOSSLContext(configuration: tlsConfiguration)
        tlsContext = ctx
        return ctx
    }

    private func connect(_ target: UpstreamTarget, connectTimeout: TimeAmount) -> EventLoopFuture<UpstreamConnection> {
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
        return future.map { [weak self] channel in
            let conn = UpstreamConnection(channel: channel, origin: target.origin)
            conn.attach(handler)
            handler.onDead = { [weak self, weak conn] in
                guard let self, let conn else { return }
                conn.reusable = false
                self.remove(conn)
            }
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
