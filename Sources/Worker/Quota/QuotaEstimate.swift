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
enum QuotaEstimate {
    static let defaultOutputTokens = 4_096

    static func usage(bodyBytes: Int, maxTokens: Int?, endpoint: RequestContext.Endpoint, route: CompiledRoute) -> QuotaUsage {
        let prompt = UInt64(max(1, bodyBytes / 4))
        let output: UInt64
        switch endpoint {
        case .embeddings, .countTokens:
            output = 0
        case .chatCompletions, .messages:
            if let maxTokens, maxTokens > 0 {
                output = UInt64(maxTokens)
            } else {
                output = UInt64(min(route.maxOutputTokens ?? defaultOutputTokens, defaultOutputTokens))
            }
        }
        let micro = endpoint == .countTokens ? 0 : microUSD(prompt: prompt, output: output, price: route.highestPrice)
        return QuotaUsage(requests: 1, tokens: endpoint == .countTokens ? 0 : prompt + output, microUSD: micro)
    }

    /// USD per million tokens × tokens = micro-dollars, rounded up.
    static func microUSD(prompt: UInt64, output: UInt64, price: GatewayConfig.ModelPrice?) -> UInt64 {
        guard let price else { return 0 }
        let value = Double(prompt) * price.inputPerMillion + Double(output) * price.outputPerMillion
        return value.isFinite && value > 0 ? UInt64(value.rounded(.up)) : 0
    }

    /// The real usage of a served response, in the table's units.
    static func actual(_ usage: Usage, price: GatewayConfig.ModelPrice?) -> QuotaUsage {
        let cost = usage.cost(price) ?? 0
        return QuotaUsage(requests: 1, tokens: UInt64(max(0, usage.promptTokens + usage.completionTokens)),
                          microUSD: cost.isFinite && cost > 0 ? UInt64((cost * 1_000_000).rounded(.up)) : 0)
    }
}
