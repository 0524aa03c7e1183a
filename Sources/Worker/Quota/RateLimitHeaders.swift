#if canImport(Glibc)
import Glibc
#endif
import SharedState
import TollgateCore

/// Rate-limit headers in the client's own dialect, from the tightest limit of each unit:
/// OpenAI's (`x-ratelimit-limit-requests`, `x-ratelimit-remaining-requests`,
/// `x-ratelimit-reset-requests` and the `-tokens` trio) or, on the Anthropic front, Anthropic's
/// (`anthropic-ratelimit-requests-limit`, `-remaining`, `-reset` as an RFC 3339 time, and the
/// `tokens` trio),
/// plus `x-tollgate-budget-remaining-usd` / `-limit-usd` for the tightest dollar budget. Reset
/// times are written the way OpenAI writes them (`1s`, `6m0s`, `20ms`), which the SDKs parse.
enum RateLimitHeaders {
    static func headers(for statuses: [QuotaStatus], front: APIFront = .openAI, unixSeconds: Int = Int(time(nil))) -> [(String, String)] {
        // One pass, no intermediate arrays: this runs for every admitted response.
        var requests: QuotaStatus?
        var tokens: QuotaStatus?
        var budget: QuotaStatus?
        for status in statuses {
            switch status.unit {
            case .requests: if requests.map({ status.remaining < $0.remaining }) ?? true { requests = status }
            case .tokens: if tokens.map({ status.remaining < $0.remaining }) ?? true { tokens = status }
            case .microUSD: if budget.map({ status.remaining < $0.remaining }) ?? true { budget = status }
            }
        }
        var out: [(String, String)] = []
        out.reserveCapacity(8)
        for (status, unit) in [(requests, "requests"), (tokens, "tokens")] {
            guard let status else { continue }
            switch front {
            case .openAI:
                out.append(("x-ratelimit-limit-\(unit)", String(status.limit)))
                out.append(("x-ratelimit-remaining-\(unit)", String(status.remaining)))
                out.append(("x-ratelimit-reset-\(unit)", duration(nanoseconds: status.resetAfterNanoseconds)))
            case .anthropic:
                out.append(("anthropic-ratelimit-\(unit)-limit", String(status.limit)))
                out.append(("anthropic-ratelimit-\(unit)-remaining", String(status.remaining)))
                let reset = unixSeconds + Int((status.resetAfterNanoseconds + 999_999_999) / 1_000_000_000)
                out.append(("anthropic-ratelimit-\(unit)-reset", UTCTime.rfc3339(reset)))
            }
        }
        if let b = budget {
            out.append(("x-tollgate-budget-limit-usd", usd(b.limit)))
            out.append(("x-tollgate-budget-remaining-usd", usd(b.remaining)))
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

    /// Micro-dollars as dollars with two to six decimals (`5.00`, `1.2345`).
    static func usd(_ micro: UInt64) -> String {
        var fraction = micro % 1_000_000
        var digits = 6
        while digits > 2 && fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let text = String(fraction)
        return String(micro / 1_000_000) + "." + String(repeating: "0", count: digits - text.utf8.count) + text
    }
}
