import Testing
@testable import Worker

@Suite struct FallbackStateMachineTests {
    typealias Ref = FallbackPlan.BackendRef
    typealias Machine = FallbackStateMachine

    private func ref(_ p: Int, _ i: Int) -> Ref { Ref(priority: p, index: i) }

    private func attempted(_ action: Machine.Action) -> Ref? {
        if case .attempt(let r) = action { return r }
        return nil
    }

    @Test func firstAttemptIsPriorityZero() {
        var m = Machine(plan: FallbackPlan(priorities: [[1], [1]], maxAttempts: 2), seed: 1)
        #expect(m.next() == .attempt(ref(0, 0)))
    }

    @Test(arguments: [
        Machine.Failure.status(429, retryAfterMs: nil),
        .status(500, retryAfterMs: nil),
        .status(502, retryAfterMs: nil),
        .status(503, retryAfterMs: 2000),
        .status(504, retryAfterMs: nil),
        .connectFailed("connection refused"),
        .connectionReset,
        .timeout(.connect),
        .timeout(.firstByte),
    ])
    func everyFailureKindFallsBackToTheNextPriority(failure: Machine.Failure) {
        var m = Machine(plan: FallbackPlan(priorities: [[1], [1]], maxAttempts: 2), seed: 7)
        #expect(m.next() == .attempt(ref(0, 0)))
        m.attemptFailed(failure)
        #expect(m.next() == .attempt(ref(1, 0)))
        #expect(m.attempts == 2)
    }

    @Test func retriableStatuses() {
        for code in [429, 408, 401, 403, 500, 502, 503, 504, 529] {
            #expect(Machine.isRetriable(status: code), "\(code)")
        }
        for code in [200, 201, 400, 404, 413, 422] {
            #expect(!Machine.isRetriable(status: code), "\(code)")
        }
    }

    @Test func triesEveryBackendOfAPriorityBeforeTheNext() {
        var m = Machine(plan: FallbackPlan(priorities: [[1, 1, 1], [1]], maxAttempts: 10), seed: 3)
        var seen: Set<Int> = []
        for _ in 0..<3 {
            guard let r = attempted(m.next()) else { Issue.record("expected an attempt"); return }
            #expect(r.priority == 0)
            seen.insert(r.index)
            m.attemptFailed(.status(500, retryAfterMs: nil))
        }
        #expect(seen == [0, 1, 2])
        #expect(m.next() == .attempt(ref(1, 0)))
    }

    @Test func weightsDecideWhichBackendGoesFirst() {
        var firstCounts = [0, 0]
        for seed in 0..<4000 {
            var m = Machine(plan: FallbackPlan(priorities: [[3, 1]], maxAttempts: 2), seed: UInt64(seed) &* 0x9E37_79B9)
            if let r = attempted(m.next()) { firstCounts[r.index] += 1 }
        }
        let share = Double(firstCounts[0]) / 4000
        #expect(share > 0.70 && share < 0.80, "weight 3:1 should put backend 0 first ~75% of the time, got \(share)")
    }

    @Test func maxAttemptsStopsTheWalk() {
        var m = Machine(plan: FallbackPlan(priorities: [[1], [1], [1]], maxAttempts: 2), seed: 1)
        _ = m.next(); m.attemptFailed(.status(500, retryAfterMs: nil))
        _ = m.next(); m.attemptFailed(.status(502, retryAfterMs: nil))
        guard case .exhausted(let e) = m.next() else { Issue.record("expected exhaustion"); return }
        #expect(e.status == 502)
        #expect(e.records.count == 2)
    }

    @Test func exhaustedByCapacityIs503WithTheSmallestRetryAfter() {
        var m = Machine(plan: FallbackPlan(priorities: [[1], [1]], maxAttempts: 5), seed: 1)
        _ = m.next(); m.attemptFailed(.status(429, retryAfterMs: 4500))
        _ = m.next(); m.attemptFailed(.status(503, retryAfterMs: 2000))
        guard case .exhausted(let e) = m.next() else { Issue.record("expected exhaustion"); return }
        #expect(e.status == 503)
        #expect(e.retryAfterSeconds == 2)
    }

    @Test func saturatedConnectionPoolCountsAsCapacity() {
        var m = Machine(plan: FallbackPlan(priorities: [[1], [1]], maxAttempts: 5), seed: 1)
        _ = m.next(); m.attemptFailed(.poolSaturated("limits.max_upstream_wait_queue"))
        #expect(m.next() == .attempt(ref(1, 0)), "a saturated pool moves on to the next backend")
        m.attemptFailed(.status(503, retryAfterMs: nil))
        guard case .exhausted(let e) = m.next() else { Issue.record("expected exhaustion"); return }
        #expect(e.status == 503)
        #expect(e.retryAfterSeconds == nil)
        #expect(Machine.Failure.poolSaturated("x").summary == "not called: x")
    }

    @Test func lastFailureTimeoutIs504() {
        var m = Machine(plan: FallbackPlan(priorities: [[1], [1]], maxAttempts: 5), seed: 1)
        _ = m.next(); m.attemptFailed(.status(500, retryAfterMs: nil))
        _ = m.next(); m.attemptFailed(.timeout(.firstByte))
        guard case .exhausted(let e) = m.next() else { Issue.record("expected exhaustion"); return }
        #expect(e.status == 504)
    }

    @Test func mixedFailuresAre502() {
        var m = Machine(plan: FallbackPlan(priorities: [[1], [1]], maxAttempts: 5), seed: 1)
        _ = m.next(); m.attemptFailed(.status(429, retryAfterMs: nil))
        _ = m.next(); m.attemptFailed(.connectFailed("refused"))
        guard case .exhausted(let e) = m.next() else { Issue.record("expected exhaustion"); return }
        #expect(e.status == 502)
        #expect(e.retryAfterSeconds == nil)
    }

    @Test func coolingDownBackendsAreSkippedAndReported() {
        var m = Machine(plan: FallbackPlan(priorities: [[1], [1]], maxAttempts: 5), coolingDown: [ref(0, 0): 1500], seed: 1)
        #expect(m.next() == .attempt(ref(1, 0)))
        m.attemptFailed(.status(503, retryAfterMs: nil))
        guard case .exhausted(let e) = m.next() else { Issue.record("expected exhaustion"); return }
        #expect(e.records.first == .init(backend: ref(0, 0), outcome: .skippedCoolingDown(remainingMs: 1500)))
        #expect(e.status == 503)
        #expect(e.retryAfterSeconds == 2)
        #expect(m.attempts == 1)
    }

    @Test func everythingCoolingDownFailsWithoutAnAttempt() {
        var m = Machine(plan: FallbackPlan(priorities: [[1]], maxAttempts: 5), coolingDown: [ref(0, 0): 800], seed: 1)
        guard case .exhausted(let e) = m.next() else { Issue.record("expected exhaustion"); return }
        #expect(e.status == 503)
        #expect(e.retryAfterSeconds == 1)
        #expect(m.attempts == 0)
    }

    @Test func honoursRetryAfterWithinTheWaitBudgetOnce() {
        var m = Machine(plan: FallbackPlan(priorities: [[1]], maxAttempts: 5), maxRetryAfterWaitMs: 1000, seed: 1)
        #expect(m.next() == .attempt(ref(0, 0)))
        m.attemptFailed(.status(429, retryAfterMs: 300))
        #expect(m.next() == .wait(ms: 300, then: ref(0, 0)))
        m.attemptFailed(.status(429, retryAfterMs: 300))
        guard case .exhausted(let e) = m.next() else { Issue.record("waits only once"); return }
        #expect(e.status == 503)
        #expect(e.records.count == 2)
    }

    @Test func retryAfterBeyondTheBudgetIsNotWaitedFor() {
        var m = Machine(plan: FallbackPlan(priorities: [[1]], maxAttempts: 5), maxRetryAfterWaitMs: 1000, seed: 1)
        _ = m.next()
        m.attemptFailed(.status(429, retryAfterMs: 5000))
        guard case .exhausted = m.next() else { Issue.record("expected exhaustion"); return }
    }

    @Test func sameSeedSameOrder() {
        func order(_ seed: UInt64) -> [Int] {
            var m = Machine(plan: FallbackPlan(priorities: [[5, 3, 2, 1]], maxAttempts: 4), seed: seed)
            var out: [Int] = []
            while case .attempt(let r) = m.next() {
                out.append(r.index)
                m.attemptFailed(.status(500, retryAfterMs: nil))
            }
            return out
        }
        #expect(order(42) == order(42))
        #expect(Set(order(42)) == [0, 1, 2, 3])
    }
}
