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

/// Every streamed field, the order of released text, framing limits and cost.
@Suite struct GuardedResponseTranslatorFieldTests {
    /// A relay: the guard sees the upstream bytes as they are (no framing of its own).
    final class Relay: ResponseTranslator {
        var usage: Usage? { nil }
        func mode(status: Int, headers: HTTPHeaders) -> TranslationMode { .stream(contentType: "text/event-stream") }
        func translateChunk(_ buffer: ByteBuffer) -> [UInt8] { Array(buffer.readableBytesView) }
        func finishStream() -> [UInt8] { [] }
        func translateWhole(status: Int, body: [UInt8]) -> (status: Int, body: [UInt8]) { (status, body) }
    }

    static func translator(_ endpoint: RequestContext.Endpoint, maxEventBytes: Int = GuardedResponseTranslator.defaultMaxEventBytes)
        -> GuardedResponseTranslator {
        GuardedResponseTranslator(inner: Relay(), engine: GuardedResponseTranslatorTests.engine, endpoint: endpoint, requestID: "r",
                                  logger: Logger(label: "test"), maxEventBytes: maxEventBytes)
    }

    static func chunk(_ delta: String, finish: String? = nil) -> String {
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":\(delta),\"finish_reason\":\(finish.map { "\"\($0)\"" } ?? "null")}]}\n\n"
    }

    static func args(_ text: String) -> String {
        #"{"tool_calls":[{"index":0,"function":{"arguments":\#(JSONWriterQuote.q(text))}}]}"#
    }

    /// (field, text) of every OpenAI event, in order: `content`, `refusal`, `tool` (arguments),
    /// `tool-header` (a call's id/name), `finish`, `error`.
    static func events(_ sse: String) -> [(String, String)] {
        var out: [(String, String)] = []
        for line in sse.split(separator: "\n") where line.hasPrefix("data: {") {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any] else {
                out.append(("invalid", String(line)))
                continue
            }
            if obj["error"] != nil { out.append(("error", "")) }
            for choice in obj["choices"] as? [[String: Any]] ?? [] {
                let delta = choice["delta"] as? [String: Any] ?? [:]
                if let c = delta["content"] as? String { out.append(("content", c)) }
                if let r = delta["refusal"] as? String { out.append(("refusal", r)) }
                for call in delta["tool_calls"] as? [[String: Any]] ?? [] {
                    let fn = call["function"] as? [String: Any] ?? [:]
                    if let name = fn["name"] as? String { out.append(("tool-header", name)) }
                    if let a = fn["arguments"] as? String { out.append(("tool", a)) }
                }
                if choice["finish_reason"] as? String != nil { out.append(("finish", "")) }
            }
        }
        return out
    }

    static func run(_ t: GuardedResponseTranslator, _ upstream: String, step: Int = 7) -> String {
        let bytes = Array(upstream.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + step)
            out += t.translateChunk(ByteBuffer(bytes: bytes[i..<end]))
            i = end
        }
        out += t.finishStream()
        return String(decoding: out, as: UTF8.self)
    }

    @Test func streamedToolCallArgumentsAreRedacted() {
        let upstream = Self.chunk(#"{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"pay","arguments":""}}]}"#)
            + Self.chunk(Self.args(#"{"card":"4111 1111"#)) + Self.chunk(Self.args(#" 1111 1111","amount":5}"#))
            + Self.chunk("{}", finish: "tool_calls") + "data: [DONE]\n\n"
        for step in [1, 7, 64, 4096] {
            let out = Self.run(Self.translator(.chatCompletions), upstream, step: step)
            let events = Self.events(out)
            #expect(events.filter { $0.0 == "tool" }.map(\.1).joined() == #"{"card":"[REDACTED:CREDIT_CARD]","amount":5}"#, "step \(step)")
            #expect(events.filter { $0.0 == "tool-header" }.map(\.1) == ["pay"], "the call's name is sent once")
            #expect(!out.contains("4111") && !out.contains("1111"))
            #expect(out.hasSuffix("data: [DONE]\n\n"))
        }
    }

    @Test func refusalsAreGuarded() {
        let upstream = Self.chunk(#"{"refusal":"I can't share the launch"}"#) + Self.chunk(#"{"refusal":" code, sorry"}"#)
            + Self.chunk("{}", finish: "stop") + "data: [DONE]\n\n"
        let out = Self.run(Self.translator(.chatCompletions), upstream)
        #expect(!out.contains("launch") && !out.contains("[DONE]"))
        #expect(out.contains("guardrail_blocked"))
        let redacted = Self.run(Self.translator(.chatCompletions), Self.chunk(#"{"refusal":"not card 4111 1111 1111 1111"}"#, finish: "stop"))
        #expect(Self.events(redacted).filter { $0.0 == "refusal" }.map(\.1).joined() == "not card [REDACTED:CREDIT_CARD]")
    }

    @Test func heldTextIsNeverEmittedOutOfOrder() {
        // Content that is still held back (it could be the start of a card) when a tool call
        // starts must reach the client before the tool call, and content after the call after it.
        let upstream = Self.chunk(#"{"content":"Paying with 4111 1111"}"#)
            + Self.chunk(#"{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"pay"}}]}"#)
            + Self.chunk(Self.args(#"{"amount":5}"#)) + Self.chunk(#"{"content":" done"}"#) + Self.chunk("{}", finish: "stop") + "data: [DONE]\n\n"
        for step in [3, 50, 100_000] {
            let events = Self.events(Self.run(Self.translator(.chatCompletions), upstream, step: step)).filter { !$0.1.isEmpty || $0.0 == "finish" }
            let kinds = events.map(\.0)
            let firstTool = kinds.firstIndex(of: "tool-header") ?? -1
            let lastContentBeforeTool = kinds[..<max(firstTool, 0)].lastIndex(of: "content") ?? -1
            #expect(firstTool > lastContentBeforeTool && lastContentBeforeTool >= 0, "step \(step): \(events)")
            #expect(events[..<firstTool].filter { $0.0 == "content" }.map(\.1).joined() == "Paying with 4111 1111", "step \(step)")
            #expect(events[firstTool...].filter { $0.0 == "content" }.map(\.1).joined() == " done", "step \(step)")
            #expect(events.filter { $0.0 == "tool" }.map(\.1).joined() == #"{"amount":5}"#)
            #expect(kinds.last == "finish")
        }
    }

    static func anthropicEvent(_ type: String, _ json: String) -> String {
        "event: \(type)\ndata: \(json)\n\n"
    }

    @Test func anthropicToolInputThinkingAndBlockStartsAreGuarded() {
        func delta(_ index: Int, _ type: String, _ key: String, _ text: String) -> String {
            Self.anthropicEvent("content_block_delta", #"{"type":"content_block_delta","index":\#(index),"delta":{"type":"\#(type)","\#(key)":\#(JSONWriterQuote.q(text))}}"#)
        }
        let upstream = Self.anthropicEvent("message_start", #"{"type":"message_start","message":{"id":"m"}}"#)
            + Self.anthropicEvent("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#)
            + delta(0, "thinking_delta", "thinking", "The user's card is 4111 1111 ") + delta(0, "thinking_delta", "thinking", "1111 1111.")
            + delta(0, "signature_delta", "signature", "sig")
            + Self.anthropicEvent("content_block_stop", #"{"type":"content_block_stop","index":0}"#)
            + Self.anthropicEvent("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"pay","input":{}}}"#)
            + Self.anthropicEvent("ping", #"{"type":"ping"}"#)
            + delta(1, "input_json_delta", "partial_json", #"{"card": "5555 5555 "#) + delta(1, "input_json_delta", "partial_json", #"5555 4444"}"#)
            + Self.anthropicEvent("content_block_stop", #"{"type":"content_block_stop","index":1}"#)
            + Self.anthropicEvent("content_block_start", #"{"type":"content_block_start","index":2,"content_block":{"type":"text","text":"pre-filled 4111111111111111"}}"#)
            + Self.anthropicEvent("content_block_stop", #"{"type":"content_block_stop","index":2}"#)
            + Self.anthropicEvent("message_stop", #"{"type":"message_stop"}"#)
        let t = GuardedResponseTranslator(inner: Relay(), engine: GuardedResponseTranslatorTests.engine, endpoint: .messages, requestID: "r",
                                          logger: Logger(label: "test"))
        let out = Self.run(t, upstream, step: 11)
        var thinking = "", json = "", order: [String] = []
        for line in out.split(separator: "\n") where line.hasPrefix("data: ") {
            let obj = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any]
            let type = obj?["type"] as? String ?? "?"
            let delta = obj?["delta"] as? [String: Any]
            order.append(type == "content_block_delta" ? (delta?["type"] as? String ?? "?") : type)
            thinking += delta?["thinking"] as? String ?? ""
            json += delta?["partial_json"] as? String ?? ""
        }
        #expect(thinking == "The user's card is [REDACTED:CREDIT_CARD].")
        #expect(json == #"{"card": "[REDACTED:CREDIT_CARD]"}"#)
        #expect(out.contains(#""text":"pre-filled [REDACTED:CREDIT_CARD]""#))
        #expect(!out.contains("4111") && !out.contains("5555"))
        // Thinking text is all out before its signature and block end; blocks stay in order.
        let sig = order.firstIndex(of: "signature_delta") ?? -1
        #expect(order.lastIndex(of: "thinking_delta").map { $0 < sig } == true, "\(order)")
        #expect(order.filter { $0 != "thinking_delta" && $0 != "input_json_delta" && $0 != "ping" } == [
            "message_start", "content_block_start", "signature_delta", "content_block_stop", "content_block_start", "content_block_stop",
            "content_block_start", "content_block_stop", "message_stop",
        ])
    }

    @Test func anthropicBlockStartTextCanBlock() {
        let upstream = Self.anthropicEvent("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"the launch code"}}"#)
            + Self.anthropicEvent("message_stop", #"{"type":"message_stop"}"#)
        let t = GuardedResponseTranslator(inner: Relay(), engine: GuardedResponseTranslatorTests.engine, endpoint: .messages, requestID: "r",
                                          logger: Logger(label: "test"))
        let out = Self.run(t, upstream)
        #expect(out.hasPrefix("event: error\ndata: {\"type\":\"error\""))
        #expect(!out.contains("launch") && !out.contains("message_stop"))
    }

    @Test func anEventPastTheCapEndsTheStream() {
        let t = Self.translator(.chatCompletions, maxEventBytes: 4096)
        let big = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + String(repeating: "x", count: 8192)
        let out = Self.run(t, big + "\"}}]}\n\n" + Self.chunk(#"{"content":"after"}"#), step: 1000)
        #expect(out.contains("upstream_event_too_large"))
        #expect(!out.contains("xxxx") && !out.contains("after"))
    }

    /// This thread's CPU time (blind to waiting for a core on a busy machine).
    static func cpuNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Framing is incremental: one long event arriving in small reads, and many events, cost
    /// linear time (1 MB ≤ 15× 100 KB).
    @Test func framingAndGuardingAreLinear() {
        func measure(_ upstream: [UInt8], step: Int) -> UInt64 {
            var best = UInt64.max
            for _ in 0..<3 {
                let t = Self.translator(.chatCompletions)
                let start = Self.cpuNanoseconds()
                var i = 0
                var sent = 0
                while i < upstream.count {
                    let end = min(upstream.count, i + step)
                    sent += t.translateChunk(ByteBuffer(bytes: upstream[i..<end])).count
                    i = end
                }
                sent += t.finishStream().count
                precondition(sent > 0)
                best = min(best, Self.cpuNanoseconds() - start)
            }
            return max(best, 1)
        }
        let oneEvent: (Int) -> [UInt8] = { size in
            Array(("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + String(repeating: "1 ", count: size / 2) + "\"}}]}\n\n").utf8)
        }
        let manyEvents: (Int) -> [UInt8] = { size in
            var s = ""
            while s.utf8.count < size { s += Self.chunk(#"{"content":"1 1 1 1 1 "}"#) }
            return Array(s.utf8)
        }
        for (name, input) in [("one long event", oneEvent), ("many events", manyEvents)] {
            var ratio = 0.0
            for _ in 0..<2 {
                ratio = Double(measure(input(1024 * 1024), step: 1024)) / Double(measure(input(100 * 1024), step: 1024))
                if ratio <= 15 { break }
            }
            print("guardrails linear response translator \(name): 1 MB / 100 KB = \(String(format: "%.1f", ratio))×")
            #expect(ratio <= 15, "\(name): \(ratio)")
        }
    }
}

/// JSON string quoting for the fixtures.
enum JSONWriterQuote {
    static func q(_ s: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [s])
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }
}
