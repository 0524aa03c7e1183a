import Config
import NIOCore
import NIOHTTP1
import Testing
import TollgateCore
@testable import Worker

/// Extreme numbers from a client (every numeric parameter of every front) get a 400 in the
/// front's shape; extreme numbers from an upstream (every usage count, retry-after) are
/// clamped. None of it may trap.
@Suite struct HostileNumbersTests {
    static let extremes = ["0", "-1", "-9223372036854775809", "9223372036854775807", "9223372036854775808",
                           "18446744073709551616", "2e18", "1e308", "-1e308", "1e400", "0.5", "\"12\"", "true", "[1]", "{}"]

    private func parse(_ body: String, endpoint: RequestContext.Endpoint) throws -> FilterResult {
        let uri: String
        switch endpoint {
        case .chatCompletions: uri = "/v1/chat/completions"
        case .embeddings: uri = "/v1/embeddings"
        case .messages: uri = "/v1/messages"
        case .countTokens: uri = "/v1/messages/count_tokens"
        }
        let ctx = RequestContext(head: HTTPRequestHead(version: .http1_1, method: .POST, uri: uri), body: ByteBuffer(string: body),
                                 query: "", endpoint: endpoint, requestID: "r", config: try GatewayConnectionHandlerTests.config())
        return RequestParsingFilter(config: try GatewayConnectionHandlerTests.config()).onRequest(ctx)
    }

    /// Whether `value` lies in the parameter's documented range (then the filter must accept it).
    private func acceptable(_ value: String, _ kind: RequestNumbers.Kind) -> Bool {
        switch kind {
        case .integer(let range): return Int(value).map(range.contains) ?? false
        case .number(let range): return Double(value).map { $0.isFinite && range.contains($0) } ?? false
        }
    }

    @Test func everyNumericParameterOfEveryFrontIsRangeChecked() throws {
        let fronts: [(RequestContext.Endpoint, String)] = [
            (.chatCompletions, #""messages":[{"role":"user","content":"hi"}]"#),
            (.embeddings, #""input":"hi""#),
            (.messages, #""max_tokens":16,"messages":[{"role":"user","content":"hi"}]"#),
        ]
        var checked = 0
        for (endpoint, rest) in fronts {
            for parameter in RequestNumbers.parameters(for: endpoint) {
                for value in Self.extremes {
                    let base = rest.replacingOccurrences(of: "\"\(parameter.name)\":16,", with: "")
                    let body = "{\"model\":\"m\",\(base),\"\(parameter.name)\":\(value)}"
                    let result = try parse(body, endpoint: endpoint)
                    if acceptable(value, parameter.kind) {
                        guard case .proceed = result else {
                            Issue.record("\(endpoint) \(parameter.name)=\(value) refused: \(result)")
                            continue
                        }
                    } else {
                        guard case .respond(let error) = result else {
                            Issue.record("\(endpoint) \(parameter.name)=\(value) accepted")
                            continue
                        }
                        #expect(error.status == 400)
                        #expect(error.param == parameter.name, "\(body)")
                    }
                    checked += 1
                }
            }
        }
        #expect(checked == (RequestNumbers.chat.count + RequestNumbers.embeddings.count + RequestNumbers.messages.count) * Self.extremes.count)
    }

    @Test func maxCompletionTokensWinsOverMaxTokens() throws {
        let ctx = RequestContext(head: HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/chat/completions"),
                                 body: ByteBuffer(string: #"{"model":"m","max_tokens":10,"max_completion_tokens":20}"#),
                                 query: "", endpoint: .chatCompletions, requestID: "r", config: try GatewayConnectionHandlerTests.config())
        _ = RequestParsingFilter(config: try GatewayConnectionHandlerTests.config()).onRequest(ctx)
        #expect(ctx.maxTokens == 20)
        let translated = try TranslationHarness.anthropic(#"{"model":"m","max_tokens":10,"max_completion_tokens":20,"messages":[{"role":"user","content":"x"}]}"#,
                                                          upstreamModel: "claude").get()
        #expect(translated["max_tokens"] as? Int == 20)
    }

    @Test(arguments: [
        #"{"model":"a","model":"b"}"#,
        #"{"model":"a","stream":false,"model":"b"}"#,
        #"{"model":"a","\u006dodel":"b"}"#,
    ])
    func duplicateTopLevelKeysAre400(body: String) throws {
        guard case .respond(let error) = try parse(body, endpoint: .chatCompletions) else {
            Issue.record("accepted \(body)")
            return
        }
        #expect(error.status == 400 && error.code == "duplicate_key")
    }

    @Test func duplicateKeysAmongManyMembersAreFoundInLinearTime() throws {
        var body = "{\"model\":\"m\""
        for i in 0..<20_000 { body += ",\"k\(i)\":1" }
        body += ",\"k19999\":2}"
        guard case .respond(let error) = try parse(body, endpoint: .chatCompletions) else {
            Issue.record("accepted")
            return
        }
        #expect(error.code == "duplicate_key" && error.param == "k19999")
        // Nested objects may repeat keys of the top level.
        guard case .proceed = try parse(#"{"model":"m","metadata":{"model":"x"}}"#, endpoint: .chatCompletions) else {
            Issue.record("refused a nested key")
            return
        }
    }

    // MARK: - Estimates and usage

    @Test func estimatesSaturateForAnyMaxTokens() throws {
        let config = try GatewayConnectionHandlerTests.config()
        let route = try #require(config.routesByName["r"])
        let expensive = CompiledRoute(name: "x", priorities: route.priorities, maxAttempts: 1)
        for maxTokens in [Int.max, Int.max - 1, 1 << 62, -1, 0, Int.min] {
            let usage = QuotaEstimate.usage(bodyBytes: Int.max, maxTokens: maxTokens, endpoint: .chatCompletions, route: expensive)
            #expect(usage.tokens <= QuotaEstimate.maxUnit)
            #expect(usage.microUSD <= QuotaEstimate.maxUnit)
        }
        let price = GatewayConfig.ModelPrice(inputPerMillion: 1e300, outputPerMillion: 1e300, cachedInputPerMillion: nil)
        #expect(QuotaEstimate.microUSD(prompt: .max, output: .max, price: price) == QuotaEstimate.maxUnit)
        let actual = QuotaEstimate.actual(Usage(promptTokens: Int.max, completionTokens: Int.max, cachedTokens: Int.min), price: price)
        #expect(actual.tokens == UInt64(2 * Usage.maxTokens))
        #expect(actual.microUSD == UInt64(Usage.maxFormattedUSD * 1_000_000), "an absurd cost saturates at the per-response cap")
    }

    @Test func usageCountsArePinnedAndCostIsNeverNegative() {
        let price = GatewayConfig.ModelPrice(inputPerMillion: 2.5, outputPerMillion: 10, cachedInputPerMillion: 1.25)
        let negative = Usage(promptTokens: -1_000_000, completionTokens: -5, cachedTokens: -3)
        #expect(negative.promptTokens == 0 && negative.completionTokens == 0 && negative.cachedTokens == 0 && negative.wasClamped)
        #expect(negative.cost(price) == 0)
        let huge = Usage(promptTokens: Int.max, completionTokens: Int.max, cachedTokens: Int.max)
        #expect(huge.promptTokens == Usage.maxTokens && huge.cachedTokens == Usage.maxTokens && huge.wasClamped)
        #expect(!Usage(promptTokens: 10, completionTokens: 5, cachedTokens: 2).wasClamped)
        #expect(String(decoding: huge.streamComment(price), as: UTF8.self).contains("\"cost_usd\":"))
        for (usd, shown) in [(Double.nan, "0.0"), (-1, "0.0"), (.infinity, "1000000000.0"), (1e308, "1000000000.0"),
                             (0.000124, "0.000124"), (12.5, "12.5")] {
            #expect(Usage.format(usd) == shown, "\(usd)")
        }
    }

    /// The literal each upstream usage field may carry, and what the gateway must read from it.
    static let hostileCounts: [(String, Int?)] = [
        ("0", 0), ("-5", 0), ("1000000000000000", Usage.maxTokens), ("9223372036854775807", Usage.maxTokens),
        ("9223372036854775808", Usage.maxTokens), ("1e308", Usage.maxTokens), ("-1e308", 0), ("12.7", 12), ("\"12\"", nil),
    ]

    @Test(arguments: hostileCounts)
    func openAIUsageIsClamped(literal: String, expected: Int?) {
        let meter = OpenAIUsageMeter(price: UsageAccountingTests.price, forwardUsageChunk: true)
        let body = "{\"id\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\":\(literal),\"completion_tokens\":\(literal),\"prompt_tokens_details\":{\"cached_tokens\":\(literal)}}}"
        _ = meter.translateWhole(status: 200, body: Array(body.utf8))
        #expect(meter.usage?.promptTokens == (expected ?? 0))
        #expect(meter.usage?.completionTokens == (expected ?? 0))
        #expect((meter.usage?.cost(UsageAccountingTests.price) ?? 0) >= 0)
        // The same in a stream, with the cost comment.
        let stream = OpenAIUsageMeter(price: UsageAccountingTests.price, forwardUsageChunk: false)
        let out = stream.translateChunk(ByteBuffer(string: "data: \(body)\n\ndata: [DONE]\n\n"))
        #expect(String(decoding: out, as: UTF8.self).contains(": tollgate-usage {\"prompt_tokens\":\(expected ?? 0),"))
    }

    @Test(arguments: hostileCounts)
    func anthropicUsageIsClamped(literal: String, expected: Int?) {
        let meter = AnthropicUsageMeter(price: UsageAccountingTests.price)
        let body = "{\"type\":\"message\",\"usage\":{\"input_tokens\":\(literal),\"output_tokens\":\(literal),\"cache_read_input_tokens\":\(literal)}}"
        _ = meter.translateWhole(status: 200, body: Array(body.utf8))
        let e = expected ?? 0
        #expect(meter.usage?.completionTokens == e)
        #expect(meter.usage?.promptTokens == min(Usage.maxTokens, e * 2))

        let translator = AnthropicResponseTranslator(publicModel: "m", includeUsage: false, price: UsageAccountingTests.price)
        _ = translator.translateWhole(status: 200, body: Array(("{\"type\":\"message\",\"content\":[],\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":\(literal),\"output_tokens\":\(literal),\"cache_read_input_tokens\":\(literal),\"cache_creation_input_tokens\":\(literal)}}").utf8))
        #expect(translator.usage?.completionTokens ?? 0 <= Usage.maxTokens)
        #expect((translator.usage?.cost(UsageAccountingTests.price) ?? 0) >= 0)
    }

    @Test(arguments: hostileCounts)
    func geminiAndBedrockUsageIsClamped(literal: String, expected: Int?) {
        let gemini = GeminiResponseTranslator(publicModel: "m", includeUsage: false, price: UsageAccountingTests.price)
        _ = gemini.translateWhole(status: 200, body: Array(("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hi\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":\(literal),\"candidatesTokenCount\":\(literal),\"thoughtsTokenCount\":\(literal)}}").utf8))
        #expect(gemini.usage.map { (0...Usage.maxTokens).contains($0.completionTokens) } ?? false)
        let bedrock = BedrockResponseTranslator(publicModel: "m", includeUsage: false, price: UsageAccountingTests.price)
        _ = bedrock.translateWhole(status: 200, body: Array(("{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":[{\"text\":\"hi\"}]}},\"stopReason\":\"end_turn\",\"usage\":{\"inputTokens\":\(literal),\"outputTokens\":\(literal),\"cacheReadInputTokens\":\(literal)}}").utf8))
        #expect(bedrock.usage.map { (0...Usage.maxTokens).contains($0.promptTokens) } ?? false)
        #expect((bedrock.usage?.cost(UsageAccountingTests.price) ?? 0) >= 0)
        let count = CountTokensTranslator(providerKind: "gemini", field: "totalTokens")
        let (status, out) = count.translateWhole(status: 200, body: Array("{\"totalTokens\":\(literal)}".utf8))
        if expected == nil {
            #expect(status == 502)
        } else {
            #expect(String(decoding: out, as: UTF8.self) == "{\"input_tokens\":\(expected!)}")
        }
    }

    @Test(arguments: [
        ("retry-after-ms", "1e17", ProxyExchange.maxRetryAfterMs, true),
        ("retry-after-ms", "inf", ProxyExchange.maxRetryAfterMs, true),
        ("retry-after-ms", "nan", nil, true),
        ("retry-after-ms", "-5", nil, true),
        ("retry-after", "1e17", ProxyExchange.maxRetryAfterMs, true),
        ("retry-after", "-inf", nil, true),
        ("retry-after", "9223372036854775807", ProxyExchange.maxRetryAfterMs, true),
        ("retry-after", "2", 2000, false),
        ("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT", nil, false),
    ] as [(String, String, Int?, Bool)])
    func retryAfterIsClampedAndLogged(name: String, value: String, ms: Int?, noted: Bool) {
        let parsed = ProxyExchange.parseRetryAfter(HTTPHeaders([(name, value)]))
        #expect(parsed.ms == ms)
        #expect((parsed.note != nil) == noted)
    }

    @Test func saturatingHelpers() {
        #expect(Saturating.add(Int.max, 1) == .max && Saturating.add(Int.min, -1) == .min)
        #expect(Saturating.add(UInt64.max, 1) == .max && Saturating.multiply(UInt64.max, 2) == .max)
        #expect(Saturating.int(.nan) == .min && Saturating.int(.infinity) == .max && Saturating.int(-.infinity) == .min)
        #expect(Saturating.int(9.3e18) == .max && Saturating.int(12.9) == 12)
        #expect(Saturating.int(5000, in: 0...1000) == 1000)
        #expect(Saturating.uint64RoundingUp(.nan) == 0 && Saturating.uint64RoundingUp(-1) == 0 && Saturating.uint64RoundingUp(1e30) == .max)
        #expect(Saturating.uint64RoundingUp(1.2) == 2 && Saturating.int64(.max) == .max && Saturating.uint64(-3) == 0)
    }
}
