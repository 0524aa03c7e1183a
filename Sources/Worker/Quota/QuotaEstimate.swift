import TollgateCore
import Config
import SharedState

/// What a request is charged before its upstream call (the reservation), from what is known
/// at admission: the prompt's size and the most it may generate. `QuotaAdmission.settle`
/// replaces it with the real usage when the response ends.
///
/// Prompt tokens are estimated at one per four bytes of request body (JSON punctuation
/// included, so it errs high); output at the request's `max_tokens`, else the catalog's
/// output limit of the route's models capped at `defaultOutputTokens` (a reservation of a
/// model's full 128k output would refuse every request under a modest token limit). Dollars at
/// the most expensive backend of the route. With `max_tokens` set, the estimate bounds the
/// real usage, so concurrent requests overspend a budget by at most one reservation.
///
/// Every quantity is saturated: `max_tokens` is range-checked at parsing (1...`maxOutputTokens`
/// of `RequestNumbers`), but the estimate does not rely on it, and each unit is pinned to
/// `maxUnit` so the table's and strict mode's signed arithmetic can never overflow.
enum QuotaEstimate {
    static let defaultOutputTokens = 4_096
    /// The most any unit of one request is charged (2^53: exact in a Double, and far below
    /// Int64.max, so sums and differences of a few of them stay representable).
    static let maxUnit: UInt64 = 1 << 53

    static func usage(bodyBytes: Int, maxTokens: Int?, endpoint: RequestContext.Endpoint, route: CompiledRoute) -> QuotaUsage {
        let prompt = Saturating.uint64(max(1, bodyBytes / 4))
        let output: UInt64
        switch endpoint {
        case .embeddings, .countTokens:
            output = 0
        case .chatCompletions, .messages:
            if let maxTokens, maxTokens > 0 {
                // No model generates more than its catalog output limit, whatever was asked.
                output = Saturating.uint64(min(maxTokens, route.maxOutputTokens ?? maxTokens))
            } else {
                output = Saturating.uint64(min(route.maxOutputTokens ?? defaultOutputTokens, defaultOutputTokens))
            }
        }
        let micro = endpoint == .countTokens ? 0 : microUSD(prompt: prompt, output: output, price: route.highestPrice)
        let tokens = endpoint == .countTokens ? 0 : min(Saturating.add(prompt, output), maxUnit)
        return QuotaUsage(requests: 1, tokens: tokens, microUSD: micro)
    }

    /// USD per million tokens × tokens = micro-dollars, rounded up, pinned to `maxUnit`.
    static func microUSD(prompt: UInt64, output: UInt64, price: GatewayConfig.ModelPrice?) -> UInt64 {
        guard let price else { return 0 }
        let value = Double(prompt) * price.inputPerMillion + Double(output) * price.outputPerMillion
        return Saturating.uint64RoundingUp(value, upper: maxUnit)
    }

    /// The real usage of a served response, in the table's units (never negative: `Usage`
    /// pins its counts at zero).
    static func actual(_ usage: Usage, price: GatewayConfig.ModelPrice?) -> QuotaUsage {
        let cost = usage.cost(price) ?? 0
        return QuotaUsage(requests: 1, tokens: min(Saturating.uint64(usage.totalTokens), maxUnit),
                          microUSD: Saturating.uint64RoundingUp(cost * 1_000_000, upper: maxUnit))
    }
}
