/// The polling loop's state, pure (no clock, no I/O): what the data plane runs, what it
/// rejected, how long the control plane has been away, and therefore when to poll next and
/// what to log. `ControlPlanePoller` is the I/O shell that feeds it events.
struct ControlPlanePollState: Sendable, Equatable {
    enum Event: Equatable {
        case notModified
        case applied(etag: String)
        case rejected(etag: String, reason: String)
        case failed(reason: String)
    }

    enum Action: Equatable {
        /// First failed poll: the control plane is away, the last good config keeps serving.
        case logUnreachable(reason: String, failures: Int)
        case logReachableAgain(afterFailures: Int)
        case logApplied(etag: String)
        /// A config that does not compile; logged once per distinct ETag.
        case logRejected(etag: String, reason: String)
    }

    let intervalMs: Int
    let maxBackoffMs: Int
    /// The ETag of the config in force, sent as `If-None-Match`.
    private(set) var appliedETag: String?
    /// Why the last answer was rejected, sent in the next heartbeat.
    private(set) var lastError: String?
    private(set) var rejectedETag: String?
    private(set) var consecutiveFailures = 0

    init(intervalMs: Int, maxBackoffMs: Int, appliedETag: String?) {
        self.intervalMs = max(100, intervalMs)
        self.maxBackoffMs = max(self.intervalMs, maxBackoffMs)
        self.appliedETag = appliedETag
    }

    mutating func handle(_ event: Event) -> [Action] {
        var actions: [Action] = []
        if case .failed(let reason) = event {
            consecutiveFailures += 1
            return [.logUnreachable(reason: reason, failures: consecutiveFailures)]
        }
        if consecutiveFailures > 0 {
            actions.append(.logReachableAgain(afterFailures: consecutiveFailures))
            consecutiveFailures = 0
        }
        switch event {
        case .notModified:
            // What we run is what the control plane has: an earlier rejection is moot.
            lastError = nil
            rejectedETag = nil
        case .failed:
            break
        case .applied(let etag):
            appliedETag = etag
            lastError = nil
            rejectedETag = nil
            actions.append(.logApplied(etag: etag))
        case .rejected(let etag, let reason):
            lastError = reason
            if rejectedETag != etag { actions.append(.logRejected(etag: etag, reason: reason)) }
            rejectedETag = etag
        }
        return actions
    }

    /// Milliseconds to the next poll: the interval, doubled per consecutive failure up to the
    /// maximum backoff; `jitter` in -1…1 spreads it by ±10 % so a fleet does not poll in step.
    func nextDelayMs(jitter: Double) -> Int {
        var base = intervalMs
        if consecutiveFailures > 0 {
            let shift = min(consecutiveFailures, 20)
            base = min(maxBackoffMs, intervalMs.multipliedReportingOverflow(by: 1 << shift).overflow ? maxBackoffMs : intervalMs << shift)
        }
        let j = max(-1, min(1, jitter))
        return max(50, base + Int(Double(base) * 0.1 * j))
    }
}
