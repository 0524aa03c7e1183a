import NIOCore

/// Why the upstream pool could not give a request a connection (other than the connect's own
/// error, which is passed on as it is so a timeout stays distinguishable from a refusal).
struct UpstreamPoolError: Error, Equatable, CustomStringConvertible {
    enum Kind: Equatable {
        /// The origin is at `max_upstream_connections_per_origin` and its wait queue is full.
        case waitQueueFull
        /// No connection became available within the connect timeout.
        case waitTimedOut
        /// The request gave up waiting (its client went away).
        case cancelled
        case shutDown
        case connectFailed
    }

    var kind: Kind
    var description: String

    init(_ reason: UpstreamPoolStateMachine.FailureReason, origin: String,
         limits: UpstreamPoolStateMachine.Configuration, waitedFor: TimeAmount?) {
        switch reason {
        case .waitQueueFull:
            kind = .waitQueueFull
            description = "the gateway already holds \(limits.maxConnectionsPerOrigin) connections to \(origin) "
                + "(limits.max_upstream_connections_per_origin) and \(limits.maxWaitQueue) requests wait for one "
                + "(limits.max_upstream_wait_queue)"
        case .waitTimedOut:
            kind = .waitTimedOut
            let ms = (waitedFor?.nanoseconds ?? 0) / 1_000_000
            description = "no connection to \(origin) became available within \(ms) ms "
                + "(limits.upstream_connect_timeout_ms; at most \(limits.maxConnectionsPerOrigin) per origin, "
                + "limits.max_upstream_connections_per_origin)"
        case .cancelled:
            kind = .cancelled
            description = "the request stopped waiting for a connection to \(origin) (its client went away)"
        case .shutDown:
            kind = .shutDown
            description = "the worker is shutting down"
        case .connectFailed:
            kind = .connectFailed
            description = "connecting to \(origin) failed"
        }
    }
}
