import NIOHTTP1
import Testing
@testable import Worker

/// The allow-list of upstream response headers, by name in any case.
@Suite struct UpstreamHeaderPolicyTests {
    @Test(arguments: [
        ("content-type", UpstreamHeaderPolicy.Disposition.representation), ("Content-Length", .representation),
        ("Retry-After", .keep), ("retry-after-ms", .keep), ("x-should-retry", .keep), ("openai-processing-ms", .keep),
        ("X-Request-ID", .requestID), ("request-id", .requestID), ("x-amzn-RequestId", .requestID),
        ("server", .drop), ("Set-Cookie", .drop), ("openai-organization", .drop), ("anthropic-organization-id", .drop),
        ("x-ratelimit-remaining-requests", .drop), ("anthropic-ratelimit-tokens-remaining", .drop),
        ("x-tollgate-cost-usd", .drop), ("X-Tollgate-Backend", .drop), ("connection", .drop), ("transfer-encoding", .drop),
        ("keep-alive", .drop), ("alt-svc", .drop), ("x-anything-new", .drop),
    ] as [(String, UpstreamHeaderPolicy.Disposition)])
    func disposition(name: String, expected: UpstreamHeaderPolicy.Disposition) {
        #expect(UpstreamHeaderPolicy.disposition(name) == expected)
    }

    @Test func connectionNominatesHopByHopHeaders() {
        let headers = HTTPHeaders([("Connection", "keep-alive, Retry-After"), ("connection", " X-Hop ")])
        #expect(UpstreamHeaderPolicy.connectionTokens(headers) == ["retry-after", "x-hop"])
    }
}
