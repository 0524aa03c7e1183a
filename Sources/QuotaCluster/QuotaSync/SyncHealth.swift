import SharedState

/// The sync's view of Redis, as a pure state machine: each round's outcome goes in, the
/// actions to take come out (publish a state to the table, log once per outage, log recovery).
/// Keeping "log once" here is what stops a Redis outage from flooding the log every round.
public struct SyncHealth: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case starting
        case healthy
        case unavailable(since: UInt64)
    }

    /// What the loop must do after a round.
    public struct Actions: Sendable, Equatable {
        public var publish: QuotaTable.ClusterSyncState?
        public var logOutage: Bool
        /// Set when Redis came back: how long the outage lasted.
        public var recoveredAfterMilliseconds: UInt64?
    }

    public private(set) var state: State = .starting

    public init() {}

    public mutating func roundSucceeded(nowMilliseconds: UInt64) -> Actions {
        defer { state = .healthy }
        switch state {
        case .starting: return Actions(publish: .healthy, logOutage: false, recoveredAfterMilliseconds: nil)
        case .healthy: return Actions(publish: nil, logOutage: false, recoveredAfterMilliseconds: nil)
        case .unavailable(let since):
            return Actions(publish: .healthy, logOutage: false, recoveredAfterMilliseconds: nowMilliseconds - min(since, nowMilliseconds))
        }
    }

    public mutating func roundFailed(nowMilliseconds: UInt64) -> Actions {
        switch state {
        case .starting, .healthy:
            state = .unavailable(since: nowMilliseconds)
            return Actions(publish: .unavailable, logOutage: true, recoveredAfterMilliseconds: nil)
        case .unavailable:
            return Actions(publish: nil, logOutage: false, recoveredAfterMilliseconds: nil)
        }
    }
}
