import NIOCore

/// The bookkeeping of the worker's upstream connection pool as a pure value: which connections
/// exist per origin (connecting, leased, idle), who waits for one, and when idle ones expire.
/// It performs no I/O and reads no clock: connections and waiters are plain ids, times are
/// nanoseconds passed in by the caller, and every event returns what the `UpstreamPool` shell
/// must do (effects as data, after async-http-client's `HTTPConnectionPool.StateMachine`).
///
/// Rules:
/// - at most `maxConnectionsPerOrigin` connections (connecting + leased + idle) per origin;
///   a lease request beyond it waits in that origin's FIFO queue, which holds at most
///   `maxWaitQueue` requests besides those a pending connect will serve; beyond that a request
///   fails at once (`.waitQueueFull`);
/// - idle connections are reused LIFO (the most recently used is the least likely to have been
///   closed by the server), at most `maxIdlePerOrigin` kept, each closed `idleTimeoutNanos`
///   after it went idle; one timer serves the whole pool and is re-armed only when it fires;
/// - a released connection goes to the oldest waiter first, then to the idle list;
/// - a `fresh` request (the stale-connection retry) never takes an idle connection: it opens a
///   new one, at the cap by closing the oldest idle one;
/// - invariant after every event, per origin: the waiters not covered by a pending connect
///   only exist at the cap, and idle connections only exist without waiters. So a failed
///   connect fails exactly one waiter (the oldest: the one it was opened for), and the others
///   keep waiting for a release or their own timeout.
struct UpstreamPoolStateMachine {
    typealias ConnectionID = Int
    typealias WaiterID = Int

    struct Configuration: Equatable {
        var maxConnectionsPerOrigin: Int
        var maxIdlePerOrigin: Int
        var maxWaitQueue: Int
        var idleTimeoutNanos: UInt64
    }

    /// Why the pool gives up on a waiter; the shell turns it into an `UpstreamPoolError` (or
    /// hands on the connect error itself for `.connectFailed`).
    enum FailureReason: Equatable {
        case connectFailed
        case waitQueueFull
        case waitTimedOut
        /// The lessee gave up (its client went away) before a connection came.
        case cancelled
        case shutDown
    }

    /// The answer to a lease request.
    enum LeaseAction: Equatable {
        /// Lease this idle connection (it was pooled, so it may be stale: the shell checks it is
        /// still open and reports `connectionFoundStale` otherwise).
        case leaseIdle(ConnectionID)
        /// The request waits as this waiter (the shell registers it with its timeout) and
        /// performs `connection` (typically creating the connection it waits for).
        case wait(WaiterID, ConnectionAction)
        /// Fail the request at once.
        case fail(FailureReason)
    }

    /// What to do for the waiters after an event.
    enum RequestAction: Equatable {
        case none
        case handOver(ConnectionID, to: WaiterID, reused: Bool)
        case failWaiter(WaiterID, FailureReason)
        case failWaiters([WaiterID], FailureReason)
    }

    /// What to do with connections after an event.
    enum ConnectionAction: Equatable {
        case none
        /// Open a connection to the origin of `waiter` (the shell knows its target).
        case create(ConnectionID, forWaiter: WaiterID)
        case close(ConnectionID)
        /// Close an idle connection to make room at the cap, then open a new one.
        case closeAndCreate(ConnectionID, create: ConnectionID, forWaiter: WaiterID)
        /// The connection is idle now: keep a read outstanding so a server-side close is seen at
        /// once; arm the idle timer at the given uptime when not nil.
        case park(ConnectionID, scheduleIdleTimerAt: UInt64?)
        /// The idle timer fired: close these expired connections; re-arm it when not nil.
        case closeIdle([ConnectionID], scheduleIdleTimerAt: UInt64?)
    }

    struct Action: Equatable {
        var request: RequestAction
        var connection: ConnectionAction

        static let none = Action(request: .none, connection: .none)
    }

    private enum ConnectionState {
        case connecting
        case leased
        case idle
    }

    private struct Connection {
        var origin: String
        var state: ConnectionState
    }

    private struct IdleConnection {
        var id: ConnectionID
        var since: UInt64
    }

    private struct Origin {
        /// Oldest first; leases pop from the end.
        var idle: [IdleConnection] = []
        var waiters = CircularBuffer<WaiterID>()
        var connecting = 0
        var leased = 0

        var total: Int { idle.count + connecting + leased }
    }

    private(set) var configuration: Configuration
    private var origins: [String: Origin] = [:]
    private var connections: [ConnectionID: Connection] = [:]
    private var waiterOrigins: [WaiterID: String] = [:]
    private var nextConnectionID: ConnectionID = 0
    private var nextWaiterID: WaiterID = 0
    private var idleTimerArmed = false
    private var isShutDown = false

    init(configuration: Configuration) {
        self.configuration = Self.sanitized(configuration)
    }

    /// New limits take effect for the next decision; connections over a lowered cap are not
    /// closed, they just are not replaced.
    mutating func updateConfiguration(_ configuration: Configuration) {
        self.configuration = Self.sanitized(configuration)
    }

    private static func sanitized(_ c: Configuration) -> Configuration {
        Configuration(maxConnectionsPerOrigin: max(1, c.maxConnectionsPerOrigin), maxIdlePerOrigin: max(0, c.maxIdlePerOrigin),
                      maxWaitQueue: max(0, c.maxWaitQueue), idleTimeoutNanos: max(1, c.idleTimeoutNanos))
    }

    // MARK: - Introspection (tests, metrics)

    func connectionCount(origin: String) -> Int { origins[origin]?.total ?? 0 }
    func idleCount(origin: String) -> Int { origins[origin]?.idle.count ?? 0 }
    func waiterCount(origin: String) -> Int { origins[origin]?.waiters.count ?? 0 }

    /// Connections (connecting, leased, idle), idle ones and waiters over every origin, for
    /// the worker's gauges; O(origins), so called from a timer, not per request.
    func totals() -> (connections: Int, idle: Int, waiters: Int) {
        var t = (connections: 0, idle: 0, waiters: 0)
        for o in origins.values {
            t.connections += o.total
            t.idle += o.idle.count
            t.waiters += o.waiters.count
        }
        return t
    }

    // MARK: - Events

    /// A request wants a connection to `origin`; `fresh` refuses pooled (possibly stale) ones.
    mutating func leaseRequested(origin: String, fresh: Bool = false) -> LeaseAction {
        if isShutDown { return .fail(.shutDown) }
        return withOrigin(origin) { o, machine in
            if !fresh, let last = o.idle.popLast() {
                o.leased += 1
                machine.setState(last.id, .leased)
                return .leaseIdle(last.id)
            }
            let atCap = o.total >= machine.configuration.maxConnectionsPerOrigin
            // Waiters a pending connect will serve are not queued behind the cap.
            if atCap && !(fresh && !o.idle.isEmpty) && o.waiters.count - o.connecting >= machine.configuration.maxWaitQueue {
                return .fail(.waitQueueFull)
            }
            let waiter = machine.makeWaiter(origin)
            if !atCap {
                o.waiters.append(waiter)
                return .wait(waiter, .create(machine.makeConnecting(origin, &o), forWaiter: waiter))
            }
            if fresh, !o.idle.isEmpty {
                let oldest = o.idle.removeFirst()
                machine.connections[oldest.id] = nil
                o.waiters.append(waiter)
                return .wait(waiter, .closeAndCreate(oldest.id, create: machine.makeConnecting(origin, &o), forWaiter: waiter))
            }
            o.waiters.append(waiter)
            return .wait(waiter, .none)
        }
    }

    /// The connect for `id` succeeded.
    mutating func connectionEstablished(_ id: ConnectionID, now: UInt64) -> Action {
        guard let conn = connections[id], conn.state == .connecting else { return .none }
        if isShutDown {
            connections[id] = nil
            withOrigin(conn.origin) { o, _ in o.connecting -= 1 }
            return Action(request: .none, connection: .close(id))
        }
        return withOrigin(conn.origin) { o, machine in
            o.connecting -= 1
            if let waiter = o.waiters.popFirst() {
                machine.waiterOrigins[waiter] = nil
                o.leased += 1
                machine.setState(id, .leased)
                return Action(request: .handOver(id, to: waiter, reused: false), connection: .none)
            }
            return Action(request: .none, connection: machine.park(id, &o, now: now))
        }
    }

    /// The connect for `id` failed: the oldest waiter of its origin fails with the connect error.
    mutating func connectionFailed(_ id: ConnectionID) -> Action {
        guard let conn = connections[id], conn.state == .connecting else { return .none }
        connections[id] = nil
        return withOrigin(conn.origin) { o, machine in
            o.connecting -= 1
            guard let waiter = o.waiters.popFirst() else { return .none }
            machine.waiterOrigins[waiter] = nil
            return Action(request: .failWaiter(waiter, .connectFailed), connection: machine.replenish(conn.origin, &o))
        }
    }

    /// The lessee is done with `id`; `reusable` when a complete response left it clean and
    /// keep-alive (the shell also checks the channel is open).
    mutating func connectionReleased(_ id: ConnectionID, reusable: Bool, now: UInt64) -> Action {
        guard let conn = connections[id], conn.state == .leased else {
            // Not ours (any more): never leave a socket open behind the pool's back.
            return Action(request: .none, connection: .close(id))
        }
        return withOrigin(conn.origin) { o, machine in
            if reusable && !machine.isShutDown {
                if let waiter = o.waiters.popFirst() {
                    machine.waiterOrigins[waiter] = nil
                    return Action(request: .handOver(id, to: waiter, reused: true), connection: .none)
                }
                if o.idle.count < machine.configuration.maxIdlePerOrigin {
                    o.leased -= 1
                    return Action(request: .none, connection: machine.park(id, &o, now: now))
                }
            }
            o.leased -= 1
            machine.connections[id] = nil
            if case .create(let new, let waiter) = machine.replenish(conn.origin, &o) {
                return Action(request: .none, connection: .closeAndCreate(id, create: new, forWaiter: waiter))
            }
            return Action(request: .none, connection: .close(id))
        }
    }

    /// The channel of `id` closed (server close, error, or the lessee closed it). An idle one
    /// leaves the idle list (stale); a leased one frees its slot for a waiter.
    mutating func connectionClosed(_ id: ConnectionID) -> Action {
        guard let conn = connections.removeValue(forKey: id) else { return .none }
        return withOrigin(conn.origin) { o, machine in
            switch conn.state {
            case .connecting:
                // A connect is reported through connectionFailed; keep the count right anyway.
                o.connecting -= 1
            case .leased:
                o.leased -= 1
            case .idle:
                if let i = o.idle.firstIndex(where: { $0.id == id }) { o.idle.remove(at: i) }
            }
            return Action(request: .none, connection: machine.replenish(conn.origin, &o))
        }
    }

    /// The shell found leased idle connection `id` closed before using it; it asks again.
    mutating func connectionFoundStale(_ id: ConnectionID) -> Action {
        connectionClosed(id)
    }

    /// Waiter `id` waited too long; nothing happens if it was already served.
    mutating func waiterTimedOut(_ id: WaiterID) -> Action {
        removeWaiter(id, reason: .waitTimedOut)
    }

    /// Waiter `id` gave up (its client closed): it leaves the queue at once, so a released
    /// connection goes to someone who still wants it instead of being handed to a lessee that
    /// would only close it, and the queue slot is free for the next request. A connect already
    /// started for it goes on and serves the next waiter, or is parked.
    mutating func waiterCancelled(_ id: WaiterID) -> Action {
        removeWaiter(id, reason: .cancelled)
    }

    private mutating func removeWaiter(_ id: WaiterID, reason: FailureReason) -> Action {
        guard let origin = waiterOrigins.removeValue(forKey: id) else { return .none }
        return withOrigin(origin) { o, _ in
            if let i = o.waiters.firstIndex(of: id) { o.waiters.remove(at: i) }
            return Action(request: .failWaiter(id, reason), connection: .none)
        }
    }

    /// The idle timer fired at `now`: close every connection idle for the idle timeout.
    mutating func idleTimerFired(now: UInt64) -> Action {
        idleTimerArmed = false
        var expired: [ConnectionID] = []
        var nextExpiry: UInt64?
        let timeout = configuration.idleTimeoutNanos
        for key in Array(origins.keys) {
            withOrigin(key) { o, machine in
                // Oldest first: the expired ones are a prefix.
                var cut = 0
                while cut < o.idle.count, o.idle[cut].since &+ timeout <= now {
                    expired.append(o.idle[cut].id)
                    machine.connections[o.idle[cut].id] = nil
                    cut += 1
                }
                if cut > 0 { o.idle.removeFirst(cut) }
                if let first = o.idle.first {
                    nextExpiry = min(nextExpiry ?? .max, first.since &+ timeout)
                }
            }
        }
        if nextExpiry != nil { idleTimerArmed = true }
        if expired.isEmpty && nextExpiry == nil { return .none }
        return Action(request: .none, connection: .closeIdle(expired, scheduleIdleTimerAt: nextExpiry))
    }

    /// The worker shuts down: close every idle connection and fail every waiter; from now on
    /// requests fail and released connections are closed.
    mutating func shutdown() -> Action {
        isShutDown = true
        idleTimerArmed = false
        var idle: [ConnectionID] = []
        var waiters: [WaiterID] = []
        for key in Array(origins.keys) {
            withOrigin(key) { o, machine in
                for c in o.idle {
                    idle.append(c.id)
                    machine.connections[c.id] = nil
                }
                o.idle.removeAll()
                waiters.append(contentsOf: o.waiters)
                o.waiters.removeAll()
            }
        }
        waiterOrigins.removeAll()
        return Action(request: waiters.isEmpty ? .none : .failWaiters(waiters, .shutDown),
                      connection: idle.isEmpty ? .none : .closeIdle(idle, scheduleIdleTimerAt: nil))
    }

    // MARK: - Helpers

    /// Mutates the origin's entry in place (no copy of its arrays) and drops it once empty.
    private mutating func withOrigin<R>(_ key: String, _ body: (inout Origin, inout Self) -> R) -> R {
        var o = origins.removeValue(forKey: key) ?? Origin()
        let result = body(&o, &self)
        if o.total > 0 || !o.waiters.isEmpty {
            origins[key] = o
        }
        return result
    }

    /// Get-then-set instead of `connections[id]?.state = …`: the dictionary's `_modify`
    /// coroutine is not inlined here and would heap-allocate its frame on every lease.
    private mutating func setState(_ id: ConnectionID, _ state: ConnectionState) {
        guard var c = connections[id] else { return }
        c.state = state
        connections[id] = c
    }

    private mutating func makeWaiter(_ origin: String) -> WaiterID {
        let id = nextWaiterID
        nextWaiterID &+= 1
        waiterOrigins[id] = origin
        return id
    }

    private mutating func makeConnecting(_ origin: String, _ o: inout Origin) -> ConnectionID {
        let id = nextConnectionID
        nextConnectionID &+= 1
        o.connecting += 1
        connections[id] = Connection(origin: origin, state: .connecting)
        return id
    }

    private mutating func park(_ id: ConnectionID, _ o: inout Origin, now: UInt64) -> ConnectionAction {
        o.idle.append(IdleConnection(id: id, since: now))
        setState(id, .idle)
        guard !idleTimerArmed else { return .park(id, scheduleIdleTimerAt: nil) }
        idleTimerArmed = true
        return .park(id, scheduleIdleTimerAt: now &+ configuration.idleTimeoutNanos)
    }

    /// A slot was freed: open a connection for the oldest waiter not covered by a connect.
    private mutating func replenish(_ origin: String, _ o: inout Origin) -> ConnectionAction {
        guard !isShutDown, o.waiters.count > o.connecting, o.total < configuration.maxConnectionsPerOrigin,
              let waiter = o.waiters.first else { return .none }
        return .create(makeConnecting(origin, &o), forWaiter: waiter)
    }
}
