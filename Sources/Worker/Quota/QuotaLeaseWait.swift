import NIOCore
import SharedState

/// Admission that waits for a cluster lease on the event loop instead of refusing: when a
/// leased limit's local allowance cannot cover a request (a key's first request on this pod,
/// or a burst that outran the prefetch), the table registers the demand and the controller
/// leases within about a Redis round trip; meanwhile this polls the table every millisecond
/// with a scheduled task (a few atomic loads, no thread hop, nothing blocks the loop). At the
/// deadline (Redis slower than its timeout) the request is refused as `quota_unavailable`.
enum QuotaLeaseWait {
    static let pollInterval = TimeAmount.milliseconds(1)

    static func acquire(_ table: QuotaTable, charges: [QuotaCharge], worker: Int, onTableFull: QuotaTable.TableFullPolicy,
                        deadline: NIODeadline, eventLoop: EventLoop) -> EventLoopFuture<QuotaDecision> {
        let promise = eventLoop.makePromise(of: QuotaDecision.self)
        @Sendable func attempt() {
            let decision = table.acquire(charges, worker: worker, onTableFull: onTableFull, onLeasePending: .wait)
            guard case .rejected(let rejection) = decision, rejection.reason == .awaitingLease else {
                promise.succeed(decision)
                return
            }
            guard NIODeadline.now() < deadline else {
                promise.succeed(.rejected(QuotaRejection(reason: .clusterSyncUnavailable, index: rejection.index, status: rejection.status,
                                                         retryAfterNanoseconds: 1_000_000_000)))
                return
            }
            eventLoop.scheduleTask(in: pollInterval) { attempt() }
        }
        eventLoop.scheduleTask(in: pollInterval) { attempt() }
        return promise.futureResult
    }
}
