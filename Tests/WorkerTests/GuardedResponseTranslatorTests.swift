import Foundation
import Guardrails
import Logging
import NIOCore
import NIOHTTP1
import Testing
@testable import Worker

@Suite struct GuardedResponseTranslatorTests {
    static let engine = GuardrailEngine(policies: [GuardrailPolicy(name: "out", checks: [
        GuardrailCheck(name: "pii", kind: .pii([.creditCard]), action: .redact, appliesTo: .response),
        GuardrailCheck(name: "words", kind: .keywords(KeywordMatcher(strings: ["launch code"]), wholeWord: true), action: .block, appliesTo: .response),
    ])])

    static func translator(_ endpoint: RequestContext.Endpoint) -> GuardedResponseTranslator {
        GuardedResponseTranslator(inner: OpenAIUsageMeter(price: nil, forwardUsageChunk: false), engine: engine, endpoint: endpoint,
                                  requestID: "r", logger: Logger(label: "test"))
    }

    static func openAIChunk(_ text: String, finish: Bool = false) -> String {
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\(JSONWriterQuote.q(text))},\"finish_reason\":\(finish ? "\"stop\"" : "null")}]}\n\n"
    }

    /// The text of every OpenAI chunk in `sse`, concatenated.
    static func contents(_ sse: String) -> String {
        var out = ""
        for line in sse.split(separator: "\n") where line.hasPrefix("data: {") {
            let obj = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any]
            let delta = ((obj?["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])
            out += delta?["content"] as? String ?? ""
        }
        return out
    }

    @Test func streamedCardSplitAcrossEventsAndReadsIsRedacted() {
        let upstream = Self.openAIChunk("Card 4111 11") + Self.openAIChunk("11 1111 ") + Self.openAIChunk("1111 on file", finish: false)
            + Self.openAIChunk("", finish: true) + "data: [DONE]\n\n"
        let bytes = Array(upstream.utf8)
        for cut in stride(from: 1, to: bytes.count, by: 5) {
            let t = Self.translator(.chatCompletions)
            _ = t.mode(status: 200, headers: ["content-type": "text/event-stream"])
            var out: [UInt8] = []
            out += t.translateChunk(ByteBuffer(bytes: bytes[..<cut]))
            out += t.translateChunk(ByteBuffer(bytes: bytes[cut...]))
            out += t.finishStream()
            let text = String(decoding: out, as: UTF8.self)
            #expect(Self.contents(text) == "Card [REDACTED:CREDIT_CARD] on file", "cut \(cut)")
            #expect(!text.contains("4111") && !text.contains("1111"))
            #expect(text.hasSuffix("data: [DONE]\n\n"))
        }
    }

    @Test func blockMidStreamEndsWithAnErrorEvent() {
        let t = Self.translator(.chatCompletions)
        var out = t.translateChunk(ByteBuffer(string: Self.openAIChunk("Status fine. The launch") + Self.openAIChunk(" code is 1234")))
        out += t.translateChunk(ByteBuffer(string: Self.openAIChunk("more") + "data: [DONE]\n\n"))
        out += t.finishStream()
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.hasSuffix("data: {\"error\":{\"message\":\"The response was blocked by guardrail policy 'out' (check 'words', rule 'keyword').\",\"type\":\"permission_error\",\"param\":null,\"code\":\"guardrail_blocked\"}}\n\n"))
        #expect(!text.contains("launch") && !text.contains("more") && !text.contains("[DONE]"))
    }

    @Test func anthropicTextDeltasAreRedactedAndFlushedAtBlockStop() {
        func delta(_ text: String) -> String {
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\(JSONWriterQuote.q(text))}}\n\n"
        }
        let upstream = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\"}}\n\n"
            + delta("card 4111 1111 ") + delta("1111 1111 ok") + "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
            + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
        let t = GuardedResponseTranslator(inner: AnthropicUsageMeter(price: nil), engine: Self.engine, endpoint: .messages,
                                          requestID: "r", logger: Logger(label: "test"))
        _ = t.mode(status: 200, headers: ["content-type": "text/event-stream"])
        let out = String(decoding: t.translateChunk(ByteBuffer(string: upstream)) + t.finishStream(), as: UTF8.self)
        var text = ""
        var order: [String] = []
        for line in out.split(separator: "\n") where line.hasPrefix("data: ") {
            let obj = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any]
            order.append(obj?["type"] as? String ?? "?")
            text += (obj?["delta"] as? [String: Any])?["text"] as? String ?? ""
        }
        #expect(text == "card [REDACTED:CREDIT_CARD] ok")
        #expect(!out.contains("4111"))
        #expect(order.first == "message_start" && order.suffix(2) == ["content_block_stop", "message_stop"])
    }

    @Test func wholeBodiesAreRedactedOrReplaced() {
        let t = Self.translator(.chatCompletions)
        _ = t.mode(status: 200, headers: ["content-type": "application/json"])
        let body = #"{"choices":[{"index":0,"message":{"role":"assistant","content":"card 4111111111111111"}}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#
        let (status, out) = t.translateWhole(status: 200, body: Array(body.utf8))
        #expect(status == 200)
        #expect(String(decoding: out, as: UTF8.self) == body.replacingOccurrences(of: "4111111111111111", with: "[REDACTED:CREDIT_CARD]"))
        let blocked = Self.translator(.messages)
        let anthropic = #"{"type":"message","role":"assistant","content":[{"type":"text","text":"the launch code"}]}"#
        let (s2, b2) = blocked.translateWhole(status: 200, body: Array(anthropic.utf8))
        #expect(s2 == 403)
        #expect(String(decoding: b2, as: UTF8.self).hasPrefix(#"{"type":"error","error":{"type":"permission_error""#))
    }
}

/// JSON string quoting for the fixtures.
enum JSONWriterQuote {
    static func q(_ s: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [s])
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }
}
