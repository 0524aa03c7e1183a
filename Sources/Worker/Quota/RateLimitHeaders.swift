import SharedState

/// OpenAI's rate-limit headers (`x-ratelimit-limit-requests`, `x-ratelimit-remaining-requests`,
/// `x-ratelimit-reset-requests` and the `-tokens` trio), from the tightest limit of each unit,
/// plus `x-tollgate-budget-remaining-usd` / `-limit-usd` for the tightest dollar budget. Reset
/// times are written the way OpenAI writes them (`1s`, `6m0s`, `20ms`), which the SDKs parse.
enum RateLimitHeaders {
    static func headers(for statuses: [QuotaStatus]) -> [(String, String)] {
        var out: [(String, String)] = []
        for (unit, suffix) in [(LimitDefinition.Unit.requests, "requests"), (.tokens, "tokens")] {
            guard let tightest = statuses.filter({ $0.unit == unit }).min(by: { $0.remaining < $1.remaining }) else { continue }
            out.append(("x-ratelimit-limit-\(suffix)", String(tightest.limit)))
            out.append(("x-ratelimit-remaining-\(suffix)", String(tightest.remaining)))
            out.append(("x-ratelimit-reset-\(suffix)", duration(nanoseconds: tightest.resetAfterNanoseconds)))
        }
        if let budget = statuses.filter({ $0.unit == .microUSD }).min(by: { $0.remaining < $1.remaining }) {
            out.append(("x-tollgate-budget-limit-usd", usd(budget.limit)))
            out.append(("x-tollgate-budget-remaining-usd", usd(budget.remaining)))
        }
        return out
    }

    /// Go-style durations as OpenAI sends them: `0s`, `20ms`, `1s`, `1.5s`, `6m0s`, `1h2m3s`.
    static func duration(nanoseconds: UInt64) -> String {
        let ms = (nanoseconds + 999_999) / 1_000_000
        if ms == 0 { return "0s" }
        if ms < 1_000 { return "\(ms)ms" }
        let hours = ms / 3_600_000
        let minutes = (ms % 3_600_000) / 60_000
        let seconds = (ms % 60_000) / 1_000
        var fraction = ""
        if ms % 1_000 != 0 {
            fraction = String(ms % 1_000)
            fraction = "." + String(repeating: "0", count: 3 - fraction.count) + fraction
            while fraction.hasSuffix("0") { fraction.removeLast() }
        }
        let s = "\(seconds)\(fraction)s"
        if hours > 0 { return "\(hours)h\(minutes)m" + s }
        if minutes > 0 { return "\(minutes)m" + s }
        return s
    }

    /// Micro-dollars as dollars with up to six decimals.
    static func usd(_ micro: UInt64) -> String {
        let whole = micro / 1_000_000
        var fraction = String(micro % 1_000_000)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.count > 2 && fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(whole).\(fraction)"
    }
}
