/// When to respawn a child that died, as a pure function of its recent history.
///
/// A child that ran for at least `stableAfterMs` is respawned at once (its death was an
/// accident, not a loop). One that keeps dying young is respawned with exponential backoff
/// (100 ms doubling up to `maxBackoffMs`) and, from the third quick death on, is reported as a
/// crash loop every time, never silently.
struct RestartPolicy: Sendable, Equatable {
    var stableAfterMs: UInt64 = 10_000
    var initialBackoffMs: UInt64 = 100
    var maxBackoffMs: UInt64 = 30_000
    var crashLoopThreshold = 3

    struct History: Sendable, Equatable {
        var quickDeaths = 0
    }

    struct Decision: Sendable, Equatable {
        var delayMs: UInt64
        var crashLoop: Bool
    }

    func decide(ranForMs: UInt64, history: inout History) -> Decision {
        if ranForMs >= stableAfterMs {
            history.quickDeaths = 0
            return Decision(delayMs: 0, crashLoop: false)
        }
        history.quickDeaths += 1
        let shift = UInt64(min(history.quickDeaths - 1, 20))
        let delay = min(maxBackoffMs, initialBackoffMs << shift)
        return Decision(delayMs: delay, crashLoop: history.quickDeaths >= crashLoopThreshold)
    }
}
