import NIOCore
import NIOHTTP1
import Testing
@testable import MockProvider

@Suite struct MockControlsTests {
    @Test func modelSuffixesSetEveryControlAndAreStrippedFromTheName() throws {
        let (c, model) = try MockControls.parse(model: "mock-small+fault=503+retry_after=2+tps=50+tokens=7+latency=30+echo+tool", headers: [:])
        #expect(model == "mock-small")
        #expect(c == MockControls(latencyMs: 30, tokensPerSecond: 50, outputTokens: 7, fault: .unavailable,
                                  retryAfterSeconds: 2, echo: true, tool: true))
    }

    @Test func hostileUpstreamControls() throws {
        let (c, _) = try MockControls.parse(model: "m+usage_raw=1e308+retry_after_raw=inf+retry_after_ms_raw=-5+hostile_headers", headers: [:])
        #expect(c.usageRaw == "1e308" && c.retryAfterRaw == "inf" && c.retryAfterMsRaw == "-5" && c.hostileHeaders)
        for bad in ["1e", "--1", "01", "abc", "1.", ".5", "\"1\""] {
            #expect(throws: MockControlError.self) { _ = try MockControls.parse(model: "m+usage_raw=\(bad)", headers: [:]) }
        }
        for good in ["0", "-0", "12", "-1000000", "9223372036854775808", "1.5e+10", "1E-3"] {
            #expect(MockControls.isJSONNumber(good), "\(good)")
        }
        let reply = MockReply.json(.tooManyRequests, ByteBuffer(string: "{}"), headers: [("retry-after", "1")]).applying(c)
        #expect(reply.headers["retry-after"] == ["inf"] && reply.headers["retry-after-ms"] == ["-5"])
        #expect(reply.headers.contains(name: "openai-organization") && reply.headers["connection"] == ["x-hop"])
    }

    @Test func noControlsMeanTheDefaults() throws {
        let (c, model) = try MockControls.parse(model: "gpt-4o-mini", headers: HTTPHeaders([("content-type", "application/json")]))
        #expect(model == "gpt-4o-mini")
        #expect(c == MockControls())
        #expect(c.outputTokens == 16 && c.retryAfterSeconds == nil && c.fault == nil)
    }

    @Test func headersAnyCaseApplyAndWinOverSuffixes() throws {
        let headers = HTTPHeaders([("X-Mock-Fault", "reset"), ("x-mock-output-tokens", "3"), ("X-MOCK-LATENCY-MS", "5"),
                                   ("x-mock-tokens-per-second", "9"), ("x-mock-retry-after", "4"), ("x-mock-echo", "true")])
        let (c, model) = try MockControls.parse(model: "m+fault=429+tokens=100", headers: headers)
        #expect(model == "m")
        #expect(c == MockControls(latencyMs: 5, tokensPerSecond: 9, outputTokens: 3, fault: .reset, retryAfterSeconds: 4, echo: true))
    }

    @Test func everyFaultNameParses() throws {
        for fault in MockControls.Fault.allCases {
            #expect(try MockControls.parse(model: "m+fault=\(fault.rawValue)", headers: [:]).controls.fault == fault)
        }
        #expect(try MockControls.parse(model: "m+echo=false", headers: [:]).controls.echo == false)
    }

    @Test func typosAndBadValuesAreRefusedWithWhatToFix() {
        #expect(throws: MockControlError.self) { try MockControls.parse(model: "m+fualt=503", headers: [:]) }
        #expect(throws: MockControlError.self) { try MockControls.parse(model: "m+fault=504", headers: [:]) }
        #expect(throws: MockControlError.self) { try MockControls.parse(model: "m+latency=soon", headers: [:]) }
        #expect(throws: MockControlError.self) { try MockControls.parse(model: "m+tokens=-1", headers: [:]) }
        #expect(throws: MockControlError.self) { try MockControls.parse(model: "m+echo=maybe", headers: [:]) }
        #expect(throws: MockControlError.self) { try MockControls.parse(model: "m", headers: HTTPHeaders([("x-mock-speed", "1")])) }
        do {
            _ = try MockControls.parse(model: "m+fualt=503", headers: [:])
        } catch {
            #expect(error.message.contains("'fualt'") && error.message.contains("known:"))
        }
    }
}

@Suite struct MockTextTests {
    @Test func generatedTextHasExactlyTheRequestedTokens() {
        let tokens = MockText.generated(count: 40)
        #expect(tokens.count == 40)
        #expect(tokens[0] == "Hello!")
        #expect(tokens.dropFirst().allSatisfy { $0.hasPrefix(" ") && !$0.dropFirst().contains(" ") })
        #expect(MockText.generated(count: 0).isEmpty)
        // Deterministic: the same count gives the same text.
        #expect(MockText.generated(count: 40) == tokens)
    }

    @Test func echoTokensJoinBackToTheTextExactly() {
        for text in ["hello mock", "  leading and  double  spaces ", "ünïcødé ✓ \"quoted\"", "", "one"] {
            #expect(MockText.echoTokens(text).joined() == text)
        }
        #expect(MockText.echoTokens("one two three").count == 3)
    }

    @Test func estimatesOneTokenPerFourBytesRoundedUp() {
        #expect(MockText.estimatedTokens(byteCount: 0) == 0)
        #expect(MockText.estimatedTokens(byteCount: 1) == 1)
        #expect(MockText.estimatedTokens(byteCount: 8) == 2)
        #expect(MockText.estimatedTokens(byteCount: 9) == 3)
    }
}
