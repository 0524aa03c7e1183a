import Config
import Logging
import NIOCore
import SharedState
import TollgateCore

/// Admission: reserves the request's estimated cost in every limit that applies to its key,
/// the key's team, the model and the key × model pair, all or nothing, in the pod's shared
/// quota table (a few atomic operations, no syscall, no lock). Over a limit: 429 in the front's
/// error format with `retry-after` and the front's rate-limit headers (OpenAI's `x-ratelimit-*`,
/// Anthropic's `anthropic-ratelimit-*`); over a dollar budget, the distinct code
/// `budget_exceeded`. Limits marked `strict` are also charged in Redis before the request goes on. The reservation rides on the request and is settled
/// with the real usage when the request ends (`QuotaAdmission`).
struct QuotaFilter: RequestFilter {
    let name = "quota"
    private let plan: QuotaPlan

    init(config: RuntimeConfig) {
        plan = config.quotaPlan
    }

    func onRequest(_ context: RequestContext) -> FilterResult {
        guard !plan.isEmpty, let table = context.quotaTable, let key = context.key, let model = context.modelName,
              let route = context.route else { return .proceed }
        let limits = plan.limits(key: key.name, model: model)
        guard !limits.isEmpty else { return .proceed }
        let estimate = QuotaEstimate.usage(bodyBytes: context.body.readableBytes, maxTokens: context.maxTokens,
                                           endpoint: context.endpoint, route: route)
        let charges = limits.map { QuotaCharge($0, cost: estimate[$0.definition.unit]) }
        let decision = table.acquire(charges, worker: context.quotaWorker, onTableFull: plan.onTableFull, onLeasePending: .wait)
        // A cluster limit whose lease is being fetched: wait for it on the loop (QuotaLeaseWait).
        if case .rejected(let rejection) = decision, rejection.reason == .awaitingLease, let loop = context.io?.eventLoop {
            let bound = NIOLoopBound(context, eventLoop: loop)
            let plan = plan
            return .suspend(QuotaLeaseWait.acquire(table, charges: charges, worker: context.quotaWorker, onTableFull: plan.onTableFull,
                                                   deadline: .now() + plan.leaseWait, eventLoop: loop).flatMap { decision in
                switch Self.decided(decision, table: table, plan: plan, limits: limits, estimate: estimate, context: bound.value) {
                case .suspend(let next): return next
                case let result: return loop.makeSucceededFuture(result)
                }
            })
        }
        return Self.decided(decision, table: table, plan: plan, limits: limits, estimate: estimate, context: context)
    }

    /// The filter's answer to an admission decision (strict limits may still suspend it).
    static func decided(_ decision: QuotaDecision, table: QuotaTable, plan: QuotaPlan, limits: [QuotaLimit], estimate: QuotaUsage,
                        context: RequestContext) -> FilterResult {
        switch decision {
        case .admitted(let reservation):
            let admission = QuotaAdmission(table: table, reservation: reservation, estimate: estimate)
            admission.front = context.endpoint.front
            context.admission = admission
            guard plan.hasStrict, let pool = context.strictQuota, let loop = context.io?.eventLoop else { return .proceed }
            let strict = limits.enumerated().filter { plan.isStrict($0.element) }
                .map { (index: $0.offset, limit: $0.element, cost: estimate[$0.element.definition.unit]) }
            guard !strict.isEmpty else { return .proceed }
            return .suspend(Self.checkStrict(strict, pool: pool, admission: admission, limits: limits, estimate: estimate,
                                             context: context, eventLoop: loop))
        case .rejected(let rejection):
            return .respond(Self.error(rejection, limit: limits[rejection.index], estimate: estimate, front: context.endpoint.front))
        }
    }

    /// Strict mode: the local reservation stands; Redis must agree too. A refusal there (or an
    /// unreachable Redis for a fail-closed limit) releases the local reservation and answers 429.
    static func checkStrict(_ strict: [(index: Int, limit: QuotaLimit, cost: UInt64)], pool: StrictQuotaPool, admission: QuotaAdmission,
                            limits: [QuotaLimit], estimate: QuotaUsage, context: RequestContext, eventLoop: EventLoop) -> EventLoopFuture<FilterResult> {
        let logger = Logger(label: "tollgate.worker.quota")
        let front = context.endpoint.front
        // The admission belongs to the loop; the verdict comes back on it.
        let bound = NIOLoopBound(admission, eventLoop: eventLoop)
        return pool.check(strict, on: eventLoop).map { verdict -> FilterResult in
            let admission = bound.value
            switch verdict {
            case .admitted:
                admission.strict = (pool, strict.map(\.limit), logger)
                return .proceed
            case .rejected(let rejection):
                admission.settle(.notServed)
                return .respond(Self.error(rejection, limit: limits[rejection.index], estimate: estimate, front: front))
            case .unavailable(let index, let why):
                let limit = limits[index]
                logger.warning("strict quota check could not reach Redis", metadata: ["limit": "\(limit.name)", "error": "\(why)"])
                if limit.definition.sharing == .clusterFailClosed {
                    admission.settle(.notServed)
                    let status = QuotaStatus(name: limit.name, unit: limit.definition.unit, limit: limit.limit, remaining: 0, resetAfterNanoseconds: 1_000_000_000)
                    return .respond(Self.error(QuotaRejection(reason: .clusterSyncUnavailable, index: index, status: status, retryAfterNanoseconds: 1_000_000_000),
                                               limit: limit, estimate: estimate, front: front))
                }
                return .proceed
            }
        }
    }

    static func error(_ rejection: QuotaRejection, limit: QuotaLimit, estimate: QuotaUsage, front: APIFront = .openAI) -> GatewayError {
        let status = rejection.status
        let scope = Self.describe(scope: limit.scope)
        let budget = status.unit == .microUSD
        var message: String
        let code: String
        let type: String
        switch rejection.reason {
        case .limitExceeded:
            let what = budget ? "Budget exhausted" : "Rate limit reached"
            let amounts = budget
                ? "limit $\(RateLimitHeaders.usd(status.limit)), remaining $\(RateLimitHeaders.usd(status.remaining)), this request needs up to $\(RateLimitHeaders.usd(estimate.microUSD))"
                : "limit \(status.limit), remaining \(status.remaining), this request needs \(estimate[status.unit] == 0 ? 1 : estimate[status.unit])"
            message = "\(what) for \(scope) (\(limit.name): \(amounts))."
            if let seconds = rejection.retryAfterSeconds {
                message += " Try again in \(RateLimitHeaders.duration(nanoseconds: seconds * 1_000_000_000))."
            } else {
                message += " This request is larger than the limit allows at all; lower max_tokens or the prompt."
            }
            code = budget ? "budget_exceeded" : "rate_limit_exceeded"
            type = budget ? "insufficient_quota" : (status.unit == .tokens ? "tokens" : "requests")
        case .clusterSyncUnavailable, .awaitingLease:
            message = "The cluster-wide limit \(limit.name) for \(scope) cannot be checked (its Redis is unreachable) and is configured to fail closed."
            code = "quota_unavailable"
            type = "requests"
        case .tableFull:
            message = "The gateway's quota table is full and configured to fail closed; the limit \(limit.name) for \(scope) cannot be tracked."
            code = "quota_unavailable"
            type = "requests"
        }
        var error = GatewayError(status: 429, type: type, code: code, message: message)
        if let seconds = rejection.retryAfterSeconds {
            error.headers.append(("retry-after", String(max(1, seconds))))
        }
        error.headers += RateLimitHeaders.headers(for: [status], front: front)
        return error
    }

    /// `key:app|model:gpt-4o` → `API key 'app' on model 'gpt-4o'`.
    static func describe(scope: String) -> String {
        scope.split(separator: "|").map { part -> String in
            let pieces = part.split(separator: ":", maxSplits: 1)
            guard pieces.count == 2 else { return String(part) }
            let kind = ["key": "API key", "team": "team", "model": "model", "provider": "provider"][String(pieces[0])] ?? String(pieces[0])
            return "\(kind) '\(pieces[1])'"
        }.joined(separator: " on ")
    }
}
