import Testing
@testable import Worker

@Suite struct UpstreamPoolStateMachineTests {
    typealias Machine = UpstreamPoolStateMachine
    typealias Action = Machine.Action

    static let a = "http://a:80"
    static let b = "https://b"
    static let second: UInt64 = 1_000_000_000

    private func machine(cap: Int = 2, idle: Int = 4, queue: Int = 3, idleTimeout: UInt64 = 10 * second) -> Machine {
        Machine(configuration: .init(maxConnectionsPerOrigin: cap, maxIdlePerOrigin: idle, maxWaitQueue: queue, idleTimeoutNanos: idleTimeout))
    }

    /// A lease that must create a connection: returns (waiter, connection).
    private func create(_ m: inout Machine, _ origin: String = a, fresh: Bool = false,
                        sourceLocation: SourceLocation = #_sourceLocation) -> (Int, Int) {
        let action = m.leaseRequested(origin: origin, fresh: fresh)
        guard case .wait(let w, .create(let c, let forWaiter)) = action, forWaiter == w else {
            Issue.record("expected a wait with a create, got \(action)", sourceLocation: sourceLocation)
            return (-1, -1)
        }
        return (w, c)
    }

    /// Opens a connection and leases it to the request that asked for it.
    private func leased(_ m: inout Machine, _ origin: String = a, sourceLocation: SourceLocation = #_sourceLocation) -> Int {
        let (w, c) = create(&m, origin, sourceLocation: sourceLocation)
        #expect(m.connectionEstablished(c, now: 0) == Action(request: .handOver(c, to: w, reused: false), connection: .none),
                sourceLocation: sourceLocation)
        return c
    }

    // MARK: - Creation and reuse

    @Test func firstLeaseCreatesAConnectionAndHandsItOverWhenEstablished() {
        var m = machine()
        let (w, c) = create(&m)
        #expect(m.connectionCount(origin: Self.a) == 1)
        #expect(m.waiterCount(origin: Self.a) == 1)
        #expect(m.connectionEstablished(c, now: 5) == Action(request: .handOver(c, to: w, reused: false), connection: .none))
        #expect(m.waiterCount(origin: Self.a) == 0)
        #expect(m.connectionCount(origin: Self.a) == 1)
    }

    @Test func releasedConnectionIsParkedArmsTheTimerOnceAndIsReusedLIFO() {
        var m = machine(cap: 3)
        let c1 = leased(&m)
        let c2 = leased(&m)
        #expect(m.connectionReleased(c1, reusable: true, now: 100) == Action(request: .none, connection: .park(c1, scheduleIdleTimerAt: 100 + 10 * Self.second)))
        // The timer is armed already: no second one.
        #expect(m.connectionReleased(c2, reusable: true, now: 200) == Action(request: .none, connection: .park(c2, scheduleIdleTimerAt: nil)))
        #expect(m.idleCount(origin: Self.a) == 2)
        #expect(m.leaseRequested(origin: Self.a) == .leaseIdle(c2))
        #expect(m.leaseRequested(origin: Self.a) == .leaseIdle(c1))
        #expect(m.idleCount(origin: Self.a) == 0)
        #expect(m.connectionCount(origin: Self.a) == 2)
    }

    @Test func originsAreCappedSeparately() {
        var m = machine(cap: 1)
        _ = leased(&m, Self.a)
        _ = leased(&m, Self.b)
        #expect(m.connectionCount(origin: Self.a) == 1)
        #expect(m.connectionCount(origin: Self.b) == 1)
    }

    @Test func moreIdleThanMaxIdleIsClosedOnRelease() {
        var m = machine(cap: 3, idle: 1)
        let c1 = leased(&m)
        let c2 = leased(&m)
        #expect(m.connectionReleased(c1, reusable: true, now: 0).connection == .park(c1, scheduleIdleTimerAt: 10 * Self.second))
        #expect(m.connectionReleased(c2, reusable: true, now: 0) == Action(request: .none, connection: .close(c2)))
        #expect(m.connectionCount(origin: Self.a) == 1)
    }

    @Test func unreusableReleaseClosesAndFreesTheSlot() {
        var m = machine(cap: 1)
        let c = leased(&m)
        #expect(m.connectionReleased(c, reusable: false, now: 0) == Action(request: .none, connection: .close(c)))
        #expect(m.connectionCount(origin: Self.a) == 0)
        // The channel's close arriving afterwards changes nothing.
        #expect(m.connectionClosed(c) == .none)
        _ = create(&m)
    }

    @Test func establishedWithoutWaiterIsParked() {
        var m = machine()
        let (w, c) = create(&m)
        #expect(m.waiterTimedOut(w) == Action(request: .failWaiter(w, .waitTimedOut), connection: .none))
        #expect(m.connectionEstablished(c, now: 7) == Action(request: .none, connection: .park(c, scheduleIdleTimerAt: 7 + 10 * Self.second)))
        #expect(m.leaseRequested(origin: Self.a) == .leaseIdle(c))
    }

    // MARK: - The cap and the wait queue

    @Test func leaseAtTheCapWaitsWithoutCreating() {
        var m = machine(cap: 1)
        _ = leased(&m)
        guard case .wait(_, .none) = m.leaseRequested(origin: Self.a) else {
            Issue.record("expected a plain wait")
            return
        }
        #expect(m.connectionCount(origin: Self.a) == 1)
        #expect(m.waiterCount(origin: Self.a) == 1)
    }

    @Test func pendingConnectsCountTowardsTheCap() {
        var m = machine(cap: 2)
        _ = create(&m)
        _ = create(&m)
        guard case .wait(_, .none) = m.leaseRequested(origin: Self.a) else {
            Issue.record("expected a plain wait at the cap")
            return
        }
    }

    @Test func releaseHandsTheConnectionToTheOldestWaiter() {
        var m = machine(cap: 1)
        let c = leased(&m)
        guard case .wait(let w1, .none) = m.leaseRequested(origin: Self.a),
              case .wait(let w2, .none) = m.leaseRequested(origin: Self.a) else {
            Issue.record("expected two waits")
            return
        }
        #expect(m.connectionReleased(c, reusable: true, now: 0) == Action(request: .handOver(c, to: w1, reused: true), connection: .none))
        #expect(m.connectionReleased(c, reusable: true, now: 0) == Action(request: .handOver(c, to: w2, reused: true), connection: .none))
        #expect(m.connectionReleased(c, reusable: true, now: 0).connection == .park(c, scheduleIdleTimerAt: 10 * Self.second))
        #expect(m.connectionCount(origin: Self.a) == 1)
    }

    @Test func unreusableReleaseWithWaitersOpensAReplacement() {
        var m = machine(cap: 1)
        let c = leased(&m)
        guard case .wait(let w, .none) = m.leaseRequested(origin: Self.a) else {
            Issue.record("expected a wait")
            return
        }
        let action = m.connectionReleased(c, reusable: false, now: 0)
        guard case .closeAndCreate(c, let new, forWaiter: w) = action.connection, action.request == .none else {
            Issue.record("expected close + create for the waiter, got \(action)")
            return
        }
        #expect(m.connectionEstablished(new, now: 0) == Action(request: .handOver(new, to: w, reused: false), connection: .none))
        #expect(m.connectionCount(origin: Self.a) == 1)
    }

    @Test func queueOverflowFailsFast() {
        var m = machine(cap: 1, queue: 2)
        _ = leased(&m)
        guard case .wait = m.leaseRequested(origin: Self.a), case .wait = m.leaseRequested(origin: Self.a) else {
            Issue.record("expected two waits")
            return
        }
        #expect(m.leaseRequested(origin: Self.a) == .fail(.waitQueueFull))
        #expect(m.waiterCount(origin: Self.a) == 2)
        // Another origin is not affected.
        _ = create(&m, Self.b)
    }

    @Test func waitersOfPendingConnectsDoNotFillTheQueue() {
        var m = machine(cap: 2, queue: 1)
        _ = create(&m)
        _ = create(&m)
        guard case .wait(_, .none) = m.leaseRequested(origin: Self.a) else {
            Issue.record("expected one wait behind the cap")
            return
        }
        #expect(m.waiterCount(origin: Self.a) == 3)
        #expect(m.leaseRequested(origin: Self.a) == .fail(.waitQueueFull))
    }

    @Test func waiterTimeoutLeavesTheQueueAndIsIgnoredOnceServed() {
        var m = machine(cap: 1)
        let c = leased(&m)
        guard case .wait(let w1, .none) = m.leaseRequested(origin: Self.a),
              case .wait(let w2, .none) = m.leaseRequested(origin: Self.a) else {
            Issue.record("expected two waits")
            return
        }
        #expect(m.waiterTimedOut(w1) == Action(request: .failWaiter(w1, .waitTimedOut), connection: .none))
        #expect(m.waiterCount(origin: Self.a) == 1)
        #expect(m.connectionReleased(c, reusable: true, now: 0).request == .handOver(c, to: w2, reused: true))
        #expect(m.waiterTimedOut(w2) == .none)
    }

    @Test func cancelledWaiterLeavesTheQueueAndReleasedConnectionsGoToTheNextOne() {
        var m = machine(cap: 1, queue: 2)
        let c = leased(&m)
        guard case .wait(let w1, .none) = m.leaseRequested(origin: Self.a),
              case .wait(let w2, .none) = m.leaseRequested(origin: Self.a) else {
            Issue.record("expected two waits")
            return
        }
        #expect(m.leaseRequested(origin: Self.a) == .fail(.waitQueueFull))
        #expect(m.waiterCancelled(w1) == Action(request: .failWaiter(w1, .cancelled), connection: .none))
        // Its slot in the queue is free again, and the release skips it.
        guard case .wait(let w3, .none) = m.leaseRequested(origin: Self.a) else {
            Issue.record("expected the freed queue slot to take a new waiter")
            return
        }
        #expect(m.connectionReleased(c, reusable: true, now: 0).request == .handOver(c, to: w2, reused: true))
        #expect(m.connectionReleased(c, reusable: true, now: 0).request == .handOver(c, to: w3, reused: true))
        // Cancelling a waiter that was served (or is unknown) does nothing.
        #expect(m.waiterCancelled(w2) == .none)
        #expect(m.waiterCancelled(12345) == .none)
    }

    @Test func aConnectStartedForACancelledWaiterServesTheNextOrIsParked() {
        var m = machine(cap: 2)
        let (w1, c1) = create(&m)
        #expect(m.waiterCancelled(w1) == Action(request: .failWaiter(w1, .cancelled), connection: .none))
        // Nobody waits: the new connection is parked, not leaked or closed.
        #expect(m.connectionEstablished(c1, now: 0).connection == .park(c1, scheduleIdleTimerAt: 10 * Self.second))
        #expect(m.connectionCount(origin: Self.a) == 1 && m.idleCount(origin: Self.a) == 1)
        // A connect for a cancelled waiter while another waits goes to that one.
        var n = machine(cap: 1)
        let (v1, d1) = create(&n)
        guard case .wait(let v2, .none) = n.leaseRequested(origin: Self.a) else {
            Issue.record("expected a wait")
            return
        }
        _ = n.waiterCancelled(v1)
        #expect(n.connectionEstablished(d1, now: 0) == Action(request: .handOver(d1, to: v2, reused: false), connection: .none))
    }

    // MARK: - Connect failures

    @Test func failedConnectFailsItsWaiterAndFreesTheSlot() {
        var m = machine(cap: 1)
        let (w, c) = create(&m)
        #expect(m.connectionFailed(c) == Action(request: .failWaiter(w, .connectFailed), connection: .none))
        #expect(m.connectionCount(origin: Self.a) == 0)
        #expect(m.waiterCount(origin: Self.a) == 0)
        _ = create(&m)
    }

    @Test func failedConnectFailsOneWaiterTheOthersKeepWaitingForReleases() {
        var m = machine(cap: 2)
        let busy = leased(&m)
        let (w1, c) = create(&m)
        guard case .wait(let w2, .none) = m.leaseRequested(origin: Self.a) else {
            Issue.record("expected a wait at the cap")
            return
        }
        // The oldest waiter (the one the connect was for) fails; a slot is free again and the
        // remaining waiter is not covered by a connect, so one is opened for it.
        let action = m.connectionFailed(c)
        #expect(action.request == .failWaiter(w1, .connectFailed))
        guard case .create(let retry, forWaiter: w2) = action.connection else {
            Issue.record("expected a new connect for the remaining waiter, got \(action)")
            return
        }
        #expect(m.waiterCount(origin: Self.a) == 1)
        // The busy connection comes back first: the waiter gets it, the connect lands idle.
        #expect(m.connectionReleased(busy, reusable: true, now: 0).request == .handOver(busy, to: w2, reused: true))
        #expect(m.connectionEstablished(retry, now: 0).connection == .park(retry, scheduleIdleTimerAt: 10 * Self.second))
    }

    @Test func everyWaiterOfAnUnreachableOriginFailsWithItsConnect() {
        var m = machine(cap: 3)
        let (w1, c1) = create(&m)
        let (w2, c2) = create(&m)
        let (w3, c3) = create(&m)
        #expect(m.connectionFailed(c1).request == .failWaiter(w1, .connectFailed))
        #expect(m.connectionFailed(c2).request == .failWaiter(w2, .connectFailed))
        #expect(m.connectionFailed(c3).request == .failWaiter(w3, .connectFailed))
        #expect(m.waiterCount(origin: Self.a) == 0)
        #expect(m.connectionCount(origin: Self.a) == 0)
    }

    // MARK: - Idle reaping

    @Test func idleTimerClosesExpiredConnectionsAndRearmsForTheRest() {
        var m = machine(cap: 4, idleTimeout: 10)
        let c1 = leased(&m)
        let c2 = leased(&m)
        let c3 = leased(&m, Self.b)
        #expect(m.connectionReleased(c1, reusable: true, now: 100).connection == .park(c1, scheduleIdleTimerAt: 110))
        #expect(m.connectionReleased(c3, reusable: true, now: 103).connection == .park(c3, scheduleIdleTimerAt: nil))
        #expect(m.connectionReleased(c2, reusable: true, now: 105).connection == .park(c2, scheduleIdleTimerAt: nil))
        #expect(m.idleTimerFired(now: 110) == Action(request: .none, connection: .closeIdle([c1], scheduleIdleTimerAt: 113)))
        #expect(m.idleCount(origin: Self.a) == 1)
        let last = m.idleTimerFired(now: 200)
        guard case .closeIdle(let ids, scheduleIdleTimerAt: nil) = last.connection else {
            Issue.record("expected the rest closed and no timer, got \(last)")
            return
        }
        #expect(Set(ids) == [c2, c3])
        #expect(m.connectionCount(origin: Self.a) == 0 && m.connectionCount(origin: Self.b) == 0)
        // Nothing idle: firing again does nothing, and the next park arms a new timer.
        #expect(m.idleTimerFired(now: 300) == .none)
        let c4 = leased(&m)
        #expect(m.connectionReleased(c4, reusable: true, now: 400).connection == .park(c4, scheduleIdleTimerAt: 410))
    }

    @Test func reusedConnectionIsNotReapedForItsEarlierIdleTime() {
        var m = machine(cap: 2, idleTimeout: 10)
        let c = leased(&m)
        #expect(m.connectionReleased(c, reusable: true, now: 0).connection == .park(c, scheduleIdleTimerAt: 10))
        #expect(m.leaseRequested(origin: Self.a) == .leaseIdle(c))
        #expect(m.connectionReleased(c, reusable: true, now: 8).connection == .park(c, scheduleIdleTimerAt: nil))
        #expect(m.idleTimerFired(now: 10) == Action(request: .none, connection: .closeIdle([], scheduleIdleTimerAt: 18)))
        #expect(m.idleCount(origin: Self.a) == 1)
    }

    // MARK: - Stale connections

    @Test func connectionClosedWhileIdleLeavesThePool() {
        var m = machine(cap: 2)
        let c1 = leased(&m)
        let c2 = leased(&m)
        _ = m.connectionReleased(c1, reusable: true, now: 0)
        _ = m.connectionReleased(c2, reusable: true, now: 0)
        #expect(m.connectionClosed(c2) == .none)
        #expect(m.idleCount(origin: Self.a) == 1)
        #expect(m.leaseRequested(origin: Self.a) == .leaseIdle(c1))
        #expect(m.connectionCount(origin: Self.a) == 1)
    }

    @Test func connectionFoundStaleAtLeaseIsDroppedAndTheNextAskGetsAnother() {
        var m = machine(cap: 2)
        let c1 = leased(&m)
        let c2 = leased(&m)
        _ = m.connectionReleased(c1, reusable: true, now: 0)
        _ = m.connectionReleased(c2, reusable: true, now: 0)
        #expect(m.leaseRequested(origin: Self.a) == .leaseIdle(c2))
        #expect(m.connectionFoundStale(c2) == .none)
        #expect(m.leaseRequested(origin: Self.a) == .leaseIdle(c1))
        #expect(m.connectionFoundStale(c1) == .none)
        _ = create(&m)
        #expect(m.connectionCount(origin: Self.a) == 1)
    }

    @Test func freshLeaseSkipsIdleConnectionsUnderTheCap() {
        var m = machine(cap: 2)
        let c = leased(&m)
        _ = m.connectionReleased(c, reusable: true, now: 0)
        let (_, new) = create(&m, fresh: true)
        #expect(new != c)
        #expect(m.idleCount(origin: Self.a) == 1)
    }

    @Test func freshLeaseAtTheCapReplacesTheOldestIdleConnection() {
        var m = machine(cap: 2)
        let c1 = leased(&m)
        let c2 = leased(&m)
        _ = m.connectionReleased(c1, reusable: true, now: 0)
        _ = m.connectionReleased(c2, reusable: true, now: 1)
        guard case .wait(let w, .closeAndCreate(c1, let new, forWaiter: let forWaiter)) = m.leaseRequested(origin: Self.a, fresh: true) else {
            Issue.record("expected the oldest idle closed and a new connect")
            return
        }
        #expect(forWaiter == w)
        #expect(m.connectionCount(origin: Self.a) == 2)
        #expect(m.connectionEstablished(new, now: 2).request == .handOver(new, to: w, reused: false))
        #expect(m.connectionClosed(c1) == .none)
        #expect(m.idleCount(origin: Self.a) == 1)
    }

    // MARK: - Closes while requests wait

    @Test func leasedConnectionClosingWhileOthersWaitOpensOneForTheOldest() {
        var m = machine(cap: 1)
        let c = leased(&m)
        guard case .wait(let w1, .none) = m.leaseRequested(origin: Self.a),
              case .wait(let w2, .none) = m.leaseRequested(origin: Self.a) else {
            Issue.record("expected two waits")
            return
        }
        let closed = m.connectionClosed(c)
        guard case .create(let new, forWaiter: w1) = closed.connection, closed.request == .none else {
            Issue.record("expected a connect for the oldest waiter, got \(closed)")
            return
        }
        // Only one slot: the second waiter waits for that connection's release.
        #expect(m.connectionEstablished(new, now: 0).request == .handOver(new, to: w1, reused: false))
        #expect(m.waiterCount(origin: Self.a) == 1)
        #expect(m.connectionReleased(new, reusable: true, now: 0).request == .handOver(new, to: w2, reused: true))
    }

    @Test func loweredCapIsNotExceededByReplacements() {
        var m = machine(cap: 2)
        let c1 = leased(&m)
        let c2 = leased(&m)
        m.updateConfiguration(.init(maxConnectionsPerOrigin: 1, maxIdlePerOrigin: 4, maxWaitQueue: 3, idleTimeoutNanos: 10))
        guard case .wait(let w, .none) = m.leaseRequested(origin: Self.a) else {
            Issue.record("expected a wait over the lowered cap")
            return
        }
        // Two over a cap of one: closing one frees no slot yet.
        #expect(m.connectionClosed(c1) == .none)
        #expect(m.connectionReleased(c2, reusable: true, now: 0).request == .handOver(c2, to: w, reused: true))
    }

    // MARK: - Shutdown

    @Test func shutdownClosesIdleFailsWaitersAndRefusesNewLeases() {
        var m = machine(cap: 2)
        let idle = leased(&m)
        let busy = leased(&m)
        _ = m.connectionReleased(idle, reusable: true, now: 0)
        let (waiter, pending) = create(&m, Self.b)
        #expect(m.shutdown() == Action(request: .failWaiters([waiter], .shutDown), connection: .closeIdle([idle], scheduleIdleTimerAt: nil)))
        #expect(m.idleCount(origin: Self.a) == 0)
        #expect(m.leaseRequested(origin: Self.a) == .fail(.shutDown))
        #expect(m.connectionReleased(busy, reusable: true, now: 0) == Action(request: .none, connection: .close(busy)))
        #expect(m.connectionEstablished(pending, now: 0) == Action(request: .none, connection: .close(pending)))
        #expect(m.connectionCount(origin: Self.a) == 0 && m.connectionCount(origin: Self.b) == 0)
    }
}
