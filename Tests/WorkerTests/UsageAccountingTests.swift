import Config
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import TollgateCore
@testable import Worker

@Suite struct UsageAccountingTests {
    static let price = GatewayConfig.ModelPrice(inputPerMillion: 2.5, outputPerMillion: 10, cachedInputPerMillion: 1.25)

    @Test func priceMathAndCatalogLookup() {
        #expect(Self.price.cost(promptTokens: 1_000_000, completionTokens: 0, cachedTokens: 0) == 2.5)
        let expected: Double = (600.0 * 2.5 + 400.0 * 1.25 + 500.0 * 10.0) / 1_000_000.0
        #expect(Self.price.cost(promptTokens: 1000, completionTokens: 500, cachedTokens: 400) == expected)
        #expect(ModelCatalog.price(for: "gpt-4o-mini-2024-07-18", in: ModelCatalog.builtIn) == ModelCatalog.builtIn["gpt-4o-mini"]?.price)
        #expect(ModelCatalog.price(for: "gpt-4o-2024-08-06", in: ModelCatalog.builtIn) == ModelCatalog.builtIn["gpt-4o"]?.price)
        #expect(ModelCatalog.price(for: "claude-3-5-haiku-20241022", in: ModelCatalog.builtIn) == ModelCatalog.builtIn["claude-3-5-haiku"]?.price)
        #expect(ModelCatalog.price(for: "my-own-model", in: ModelCatalog.builtIn) == nil)
        #expect(Usage.format(0.0000375) == "0.0000375")
        #expect(Usage.format(2) == "2.0")
    }

    @Test func wholeResponsesPassThroughWithTheirUsage() {
        let meter = OpenAIUsageMeter(price: Self.price, forwardUsageChunk: false)
        #expect({ if case .buffered = meter.mode(status: 200, headers: ["content-type": "application/json", "content-length": "100"]) { true } else { false } }())
        #expect({ if case .passthrough = meter.mode(status: 400, headers: ["content-type": "application/json"]) { true } else { false } }())
        let body = Array(#"{"id":"x","usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":4}}}"#.utf8)
        let (status, out) = meter.translateWhole(status: 200, body: body)
        #expect(status == 200 && out == body)
        #expect(meter.usage == Usage(promptTokens: 10, completionTokens: 5, cachedTokens: 4))
    }

    private func stream(forward: Bool, pieceSize: Int = 5) -> String {
        let meter = OpenAIUsageMeter(price: Self.price, forwardUsageChunk: forward)
        let upstream = """
        data: {"id":"c","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}

        data: {"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}

        data: {"id":"c","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120}}

        data: [DONE]


        """
        var out: [UInt8] = []
        for piece in Array(upstream.utf8).chunked(pieceSize) { out += meter.translateChunk(ByteBuffer(bytes: piece)) }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func streamsGetACostCommentAndKeepTheUsageChunkOnlyWhenAsked() {
        let hidden = stream(forward: false)
        #expect(!hidden.contains("\"prompt_tokens\":100,\"completion_tokens\":20,\"total_tokens\""), "the gateway's own usage request stays invisible")
        #expect(hidden.contains(": tollgate-usage {\"prompt_tokens\":100,\"completion_tokens\":20,\"cached_tokens\":0,\"cost_usd\":0.00045}\n\ndata: [DONE]\n\n"))
        #expect(hidden.contains("\"content\":\"Hi\""))
        let shown = stream(forward: true)
        #expect(shown.contains("\"choices\":[],\"usage\":{\"prompt_tokens\":100"))
        #expect(shown.hasSuffix("data: [DONE]\n\n"))
    }

    /// Whole streams in one read take the fast path (events relayed unparsed up to the usage
    /// chunk) and must come out exactly as from the event-by-event path.
    @Test func fastPathAndParsedPathAgree() {
        for forward in [false, true] {
            #expect(stream(forward: forward, pieceSize: 10_000) == stream(forward: forward, pieceSize: 5))
            #expect(stream(forward: forward, pieceSize: 10_000) == stream(forward: forward, pieceSize: 137))
        }
        let raw = Array("data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: {\"usage\":{}}\n\n".utf8)
        #expect(raw.withUnsafeBytes { OpenAIUsageMeter.rawPrefixLength($0) } == 30)
        let spaced = Array("data: {\"usage\":null}\n\ndata: {\"usage\": {\"prompt_tokens\":1}}\n\n".utf8)
        #expect(spaced.withUnsafeBytes { OpenAIUsageMeter.rawPrefixLength($0) } == 22, "null is skipped, a spaced object stops")
        let done = Array("data: {\"usage\":null}\n\ndata: [DONE]\n\n".utf8)
        #expect(done.withUnsafeBytes { OpenAIUsageMeter.rawPrefixLength($0) } == 22)
        let cut = Array("data: {\"a\":1}\n\ndata: {\"usage\":".utf8)
        #expect(cut.withUnsafeBytes { OpenAIUsageMeter.rawPrefixLength($0) } == 15, "a usage key cut at the end of a read is treated as an object")
    }

    /// Events that need no inspection leave as the very buffer that came in (no copy).
    @Test func plainChunksAreRelayedWithoutACopy() {
        let meter = OpenAIUsageMeter(price: nil, forwardUsageChunk: false)
        let chunk = ByteBuffer(string: "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}],\"usage\":null}\n\n")
        let out = meter.relayChunk(chunk)
        #expect(out == chunk)
        let a = chunk.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let b = out.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(a == b, "same storage")
    }

    @Test func streamedChatAsksUpstreamForUsage() throws {
        let config = try GatewayConnectionHandlerTests.config()
        let backend = try #require(config.routesByName["r"]?.priorities.first?.first)
        func body(_ json: String, stream: Bool, includeUsage: Bool, optionsRange: Range<Int>?) -> String {
            let bytes = Array(json.utf8)
            let modelRange = bytes.withUnsafeBytes { raw in (try? JSONScanner.scanObject(raw))?.member("model", in: raw)?.value }!
            let request = ProxyExchange.Request(endpoint: .chatCompletions, query: "", clientHead: HTTPRequestHead(version: .http1_1, method: .POST, uri: "/"),
                                                body: ByteBuffer(bytes: bytes), modelRange: modelRange, publicModel: "m", requestID: "r",
                                                stream: stream, includeUsage: includeUsage, streamOptionsRange: optionsRange)
            return String(decoding: OpenAIAdapter.rewrittenBody(request, backend: backend), as: UTF8.self)
        }
        #expect(body(#"{"model":"m","stream":true}"#, stream: true, includeUsage: false, optionsRange: nil)
                == #"{"model":"up","stream":true,"stream_options":{"include_usage":true}}"#)
        let withOptions = #"{"stream_options":{"include_usage":false},"model":"m","stream":true}"#
        #expect(body(withOptions, stream: true, includeUsage: false, optionsRange: 18..<41)
                == #"{"stream_options":{"include_usage":true},"model":"up","stream":true}"#)
        #expect(body(#"{"model":"m"}"#, stream: false, includeUsage: false, optionsRange: nil) == #"{"model":"up"}"#)
    }
}

extension Array {
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
