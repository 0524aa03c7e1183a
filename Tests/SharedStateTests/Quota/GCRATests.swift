import Testing
@testable import SharedState

@Suite struct GCRATests {
    let second: UInt64 = 1_000_000_000

    @Test func admitsTheBurstThenExactlyTheRate() {
        let g = GCRA(limit: 10, period: 10 * second)  // 1 per second, burst 10
        var tat: UInt64 = 0
        let now = 1_000 * second
        for i in 0..<10 {
            let d = g.decide(tat: tat, now: now, cost: 1)
            #expect(d.admitted, "request \(i) of the burst")
            #expect(d.remaining == UInt64(9 - i))
            tat = d.newTAT
        }
        let eleventh = g.decide(tat: tat, now: now, cost: 1)
        #expect(!eleventh.admitted)
        #expect(eleventh.retryAfter == second)
        #expect(eleventh.resetAfter == 10 * second)
        // One nanosecond early is still too early; on the boundary it passes.
        #expect(!g.decide(tat: tat, now: now + second - 1, cost: 1).admitted)
        #expect(g.decide(tat: tat, now: now + second, cost: 1).admitted)
    }

    @Test func costWeightedAndStatus() {
        let g = GCRA(limit: 1_000, period: 60 * second)  // tokens per minute
        let now = 500 * second
        let d = g.decide(tat: 0, now: now, cost: 600)
        #expect(d.admitted && d.remaining == 400)
        let d2 = g.decide(tat: d.newTAT, now: now, cost: 500)
        #expect(!d2.admitted)
        #expect(d2.remaining == 400)
        #expect(d2.retryAfter == 6 * second)  // 100 tokens at 60 ms each
        let s = g.status(tat: d.newTAT, now: now + 30 * second)
        #expect(s.remaining == 900 && s.resetAfter == 6 * second)
    }

    @Test func roundingNeverAdmitsMoreThanTheLimit() {
        let g = GCRA(limit: 3, period: second)  // emission interval 333 333 333.3 ns
        var tat: UInt64 = 0
        var admitted = 0
        let start = 10 * second
        for t in stride(from: start, to: start + 10 * second, by: 1_000_000) {
            let d = g.decide(tat: tat, now: t, cost: 1)
            if d.admitted { admitted += 1; tat = d.newTAT }
        }
        // Burst 3 plus 3 per second for 10 s, never more.
        #expect(admitted <= 3 + 30)
        #expect(admitted >= 3 + 29)
    }

    @Test func costLargerThanTheLimitIsRejectedForever() {
        let g = GCRA(limit: 100, period: second)
        let d = g.decide(tat: 0, now: second, cost: 101)
        #expect(!d.admitted && d.retryAfter == nil)
        #expect(d.remaining == 100)
        let huge = g.decide(tat: 0, now: second, cost: .max)
        #expect(!huge.admitted && huge.retryAfter == nil)
        #expect(g.increment(cost: .max) == .max)
    }

    @Test func overflowSafeAtTheEdgesOfTime() {
        let g = GCRA(limit: 1, period: 400 * 86_400 * second)
        let d = g.decide(tat: .max - 5, now: .max - 10, cost: 1)
        #expect(!d.admitted)
        let e = g.decide(tat: 0, now: .max - 1, cost: 1)
        #expect(!e.admitted && e.retryAfter == nil)
        #expect(g.charge(tat: .max, now: 0, cost: 1_000) == .max)
        #expect(g.refund(tat: 5, cost: 1_000) == 0)
    }

    @Test func clockGoingBackwardsOnlyDelays() {
        let g = GCRA(limit: 2, period: 2 * second)
        let now = 100 * second
        var tat = g.decide(tat: 0, now: now, cost: 1).newTAT
        tat = g.decide(tat: tat, now: now, cost: 1).newTAT  // burst used up: tat = now + 2 s
        let back = now - 5 * second
        let d = g.decide(tat: tat, now: back, cost: 1)
        #expect(!d.admitted)
        #expect(d.retryAfter == 6 * second)  // the 5 s step plus the normal 1 s
        #expect(d.remaining == 0)
        // A key at rest before the step is unaffected by it.
        let rested = g.decide(tat: back - second, now: back, cost: 1)
        #expect(rested.admitted && rested.newTAT == back + second)
    }

    @Test func refundAndChargeAreInverse() {
        let g = GCRA(limit: 7, period: second)
        let now = 50 * second
        let tat = g.decide(tat: 0, now: now, cost: 5).newTAT
        #expect(g.refund(tat: tat, cost: 5) == now)
        #expect(g.charge(tat: now, now: now, cost: 5) == tat)
        #expect(g.increment(cost: 0) == 0)
    }
}
