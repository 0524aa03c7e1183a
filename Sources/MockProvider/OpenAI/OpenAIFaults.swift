import NIOHTTP1

/// Injected faults as OpenAI's API shows them: its error bodies, statuses and rate-limit headers.
enum OpenAIFaults {
    /// The reply for `controls.fault`; nil without a fault and for `midstream`, which the
    /// endpoint builds into its own reply.
    static func reply(_ controls: MockControls) -> MockReply? {
        guard let fault = controls.fault else { return nil }
        switch fault {
        case .rateLimited:
            let after = controls.retryAfterSeconds ?? 1
            let error = OpenAIError(message: "Rate limit reached for requests per min (RPM): Limit 60, Used 60, Requested 1. "
                                        + "Please try again in \(after)s. (injected by the Tollgate mock provider)",
                                    type: "requests", param: nil, code: "rate_limit_exceeded")
            return error.reply(.tooManyRequests, headers: rateLimitHeaders(retryAfter: after))
        case .internalError:
            return OpenAIError(message: "The server had an error while processing your request. Sorry about that! (injected by the Tollgate mock provider)",
                               type: "server_error", param: nil, code: nil).reply(.internalServerError)
        case .badGateway:
            return OpenAIError(message: "Bad gateway. (injected by the Tollgate mock provider)",
                               type: "server_error", param: nil, code: nil).reply(.badGateway)
        case .unavailable:
            return OpenAIError(message: "The engine is currently overloaded, please try again later. (injected by the Tollgate mock provider)",
                               type: "server_error", param: nil, code: nil)
                .reply(.serviceUnavailable, headers: controls.retryAfterSeconds.map { [("retry-after", String($0))] } ?? [])
        case .reset:
            return .reset
        case .hang:
            return .hang
        case .midstream:
            return nil
        }
    }

    /// The `retry-after` and `x-ratelimit-*` headers of an exhausted request limit.
    static func rateLimitHeaders(retryAfter: Int) -> [(String, String)] {
        [("retry-after", String(retryAfter)),
         ("x-ratelimit-limit-requests", "60"), ("x-ratelimit-limit-tokens", "150000"),
         ("x-ratelimit-remaining-requests", "0"), ("x-ratelimit-remaining-tokens", "150000"),
         ("x-ratelimit-reset-requests", "\(retryAfter)s"), ("x-ratelimit-reset-tokens", "0s")]
    }
}
