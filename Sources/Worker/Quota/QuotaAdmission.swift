import Config
import Logging
import SharedState
import TollgateCore

/// The quota one request holds: the reservation `QuotaFilter` took, settled exactly once when
/// the request ends, whichever way it ends (response complete, client gone, upstream failed,
/// refused by a later filter). The reservation itself refuses a second settlement too.
final class QuotaAdmission {
    /// How a request ended, as far as its consumption is concerned.
    enum Outcome {
        /// No upstream served it (refused by a filter, every backend failed before answering):
        /// the request counts, tokens and dollars are refunded.
        case notServed
        /// Served, with the usage the provider reported, priced at the serving backend.
        case served(Usage, GatewayConfig.ModelPrice?)
        /// Served, but its usage is unknown (a stream cut short, a body relayed unread): the
        /// estimate stays charged, the safe side for a budget.
        case unknown
    }

    let table: QuotaTable
    let reservation: QuotaReservation
    let estimate: QuotaUsage
    /// Limits also charged in Redis by strict mode (their estimate there is corrected too).
    var strict: (pool: StrictQuotaPool, limits: [QuotaLimit], logger: Logger)?

    init(table: QuotaTable, reservation: QuotaReservation, estimate: QuotaUsage) {
        self.table = table
        self.reservation = reservation
        self.estimate = estimate
    }

    /// The front of the request, for the dialect of its rate-limit headers.
    var front: APIFront = .openAI

    /// The rate-limit headers for the limits this request passed (OpenAI's `x-ratelimit-*`,
    /// or Anthropic's `anthropic-ratelimit-*` on the Anthropic front).
    var headers: [(String, String)] { RateLimitHeaders.headers(for: reservation.statuses, front: front) }

    func settle(_ outcome: Outcome) {
        let actual: QuotaUsage
        switch outcome {
        case .notServed: actual = QuotaUsage(requests: 1, tokens: 0, microUSD: 0)
        case .served(let usage, let price): actual = QuotaEstimate.actual(usage, price: price)
        case .unknown: actual = estimate
        }
        guard table.settle(reservation, actual: actual), let strict else { return }
        strict.pool.settle(strict.limits.map { ($0, Saturating.int64(actual[$0.definition.unit]) - Saturating.int64(estimate[$0.definition.unit])) }, logger: strict.logger)
    }
}
