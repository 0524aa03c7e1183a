import Testing
@testable import Supervisor

@Suite struct RestartPolicyTests {
    @Test func aStableChildIsRespawnedAtOnce() {
        var history = RestartPolicy.History(quickDeaths: 4)
        let d = RestartPolicy().decide(ranForMs: 60_000, history: &history)
        #expect(d == .init(delayMs: 0, crashLoop: false))
        #expect(history.quickDeaths == 0)
    }

    @Test func quickDeathsBackOffExponentiallyAndAreReportedAsACrashLoop() {
        let policy = RestartPolicy()
        var history = RestartPolicy.History()
        let delays = (0..<12).map { _ in policy.decide(ranForMs: 50, history: &history) }
        #expect(delays.map(\.delayMs).prefix(5) == [100, 200, 400, 800, 1600])
        #expect(delays.map(\.crashLoop).prefix(4) == [false, false, true, true])
        #expect(delays.last?.delayMs == 30_000, "capped at the maximum backoff")
        #expect(delays.allSatisfy { $0.delayMs <= 30_000 })
    }

    @Test func theFirstQuickDeathIsRespawnedWithinASecond() {
        var history = RestartPolicy.History()
        #expect(RestartPolicy().decide(ranForMs: 10, history: &history).delayMs < 1000)
    }

    @Test func describesExitStatuses() {
        #expect(ChildProcess.describe(status: 0) == "exit code 0")
        #expect(ChildProcess.describe(status: 71 << 8) == "exit code 71")
        #expect(ChildProcess.describe(status: 9) == "signal 9")
        #expect(ChildProcess.describe(status: 11 | 0x80) == "signal 11 (core dumped)")
        #expect(ChildProcess.exitCode(status: 70 << 8) == 70)
        #expect(ChildProcess.exitCode(status: 9) == nil)
    }
}
