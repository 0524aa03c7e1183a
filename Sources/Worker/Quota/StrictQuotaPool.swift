import Config
import Logging
import NIOCore
import NIOPosix
import QuotaCluster
import SharedState
import Synchronization
import TollgateCore

/// Strict-mode quota checks (`strict: true` on a limit set with `quotas.redis`): each request
/// is charged in Redis itself before it goes upstream, so pods cannot overshoot at all. Redis
/// calls block, so they run on this small thread pool, never on the event loop; each thread
/// checks a client out of a locked stack (`RedisClient` is not thread-safe) and returns it.
/// One pool per worker, built for one Redis configuration.
final class StrictQuotaPool: @unchecked Sendable {
    let settings: QuotaSyncSettings
    private let threads: NIOThreadPool
    private let idle = Mutex<[StrictQuotaCheck]>([])

    /// The outcome of the strict checks of one request.
    enum Verdict: Sendable {
        case admitted
        case rejected(QuotaRejection)
        /// Redis could not be asked: the limit's `on_redis_down` decides.
        case unavailable(index: Int, error: String)
    }

    init(settings: QuotaSyncSettings) {
        self.settings = settings
        threads = NIOThreadPool(numberOfThreads: 2)
        threads.start()
    }

    deinit {
        threads.shutdownGracefully { _ in }
    }

    private func withCheck<T>(_ body: (StrictQuotaCheck) -> T) -> T {
        let check = idle.withLock { $0.popLast() } ?? StrictQuotaCheck(endpoint: settings.redis!, settings: settings)
        defer { idle.withLock { $0.append(check) } }
        return body(check)
    }

    /// Charges each of `charges` (index into the request's limits, limit, cost) in Redis, all
    /// or nothing as far as Redis allows: a rejection refunds the calendar charges already made.
    func check(_ charges: [(index: Int, limit: QuotaLimit, cost: UInt64)], on eventLoop: EventLoop) -> EventLoopFuture<Verdict> {
        threads.runIfActive(eventLoop: eventLoop) { [self] in
            withCheck { check in
                var done: [(QuotaLimit, UInt64)] = []
                for charge in charges {
                    do {
                        let decision = try check.consume(charge.limit, cost: charge.cost)
                        if decision.admitted {
                            done.append((charge.limit, charge.cost))
                            continue
                        }
                        for (limit, cost) in done { try? check.adjust(limit, by: -Saturating.int64(cost)) }
                        let status = QuotaStatus(name: charge.limit.name, unit: charge.limit.definition.unit, limit: charge.limit.limit,
                                                 remaining: decision.remaining, resetAfterNanoseconds: decision.retryAfterNanoseconds ?? 0)
                        return .rejected(QuotaRejection(reason: .limitExceeded, index: charge.index, status: status,
                                                        retryAfterNanoseconds: decision.retryAfterNanoseconds))
                    } catch {
                        for (limit, cost) in done { try? check.adjust(limit, by: -Saturating.int64(cost)) }
                        return .unavailable(index: charge.index, error: "\(error)")
                    }
                }
                return .admitted
            }
        }
    }

    /// Corrects strict charges (calendar and rolling) with the real usage once the request
    /// ended: refunds go back to Redis, so a strict budget is usable to within one request.
    /// Fire and forget: nothing waits for it.
    func settle(_ corrections: [(QuotaLimit, Int64)], logger: Logger) {
        guard !corrections.isEmpty else { return }
        threads.submit { [self] state in
            guard state == .active else { return }
            withCheck { check in
                for (limit, delta) in corrections where delta != 0 {
                    do {
                        try check.adjust(limit, by: delta)
                    } catch {
                        logger.warning("strict quota settlement failed; the estimate stays charged", metadata: ["limit": "\(limit.name)", "error": "\(error)"])
                    }
                }
            }
        }
    }
}
