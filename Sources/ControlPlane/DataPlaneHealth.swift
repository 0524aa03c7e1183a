/// Whether a data plane is reachable, from its last poll: the poll is the heartbeat, so a
/// data plane that missed `unreachableAfterMissedPolls` polls in a row at the interval it
/// reports is shown as unreachable. Pure, so the boundary is tested without a clock.
struct DataPlaneHealth: Equatable {
    let pollIntervalMs: Int64
    /// Whole intervals since the last poll, less the one in progress (0 while on schedule).
    let missedPolls: Int64
    let reachable: Bool

    init(lastSeenMs: Int64, pollIntervalMs: Int64, unreachableAfterMissedPolls: Int, nowMs: Int64) {
        let interval = max(100, pollIntervalMs)
        self.pollIntervalMs = interval
        // Polls are jittered by ±10 %: a poll is missed only once 110 % of the interval passed.
        let slack = interval + interval / 10
        let elapsed = max(0, nowMs - lastSeenMs)
        missedPolls = elapsed < slack ? 0 : 1 + (elapsed - slack) / interval
        reachable = missedPolls < Int64(max(1, unreachableAfterMissedPolls))
    }
}
