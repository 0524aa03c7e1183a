import Foundation
import NIOCore
import NIOHTTP1
import Testing
import TollgateCore
@testable import Worker

@Suite struct AnthropicRequestTranslationTests {
    private func translate(_ json: String) -> Result<[String: Any], GatewayError> {
        TranslationHarness.anthropic(json, upstreamModel: "claude-x")
    }

    private func ok(_ json: String) throws -> [String: Any] {
        switch translate(json) {
        case .success(let o): return o
        case .failure(let e): throw e
        }
    }

    @Test func hoistsSystemMergesTurnsAndDefaultsMaxTokens() throws {
        let out = try ok(#"""
        {"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},{"role":"user","content":[{"type":"text","text":"there"}]}],
         "stop":"END","temperature":0.5,"user":"u1"}
        """#)
        #expect(out["model"] as? String == "claude-x")
        #expect(out["system"] as? String == "Be brief.")
        #expect(out["max_tokens"] as? Int == AnthropicRequestTranslator.defaultMaxTokens)
        #expect(out["stop_sequences"] as? [String] == ["END"])
        #expect(out["temperature"] as? Double == 0.5)
        #expect((out["metadata"] as? [String: String]) == ["user_id": "u1"])
        let messages = out["messages"] as? [[String: Any]] ?? []
        #expect(messages.count == 1, "consecutive user turns merge")
        let blocks = messages.first?["content"] as? [[String: Any]] ?? []
        #expect(blocks.compactMap { $0["text"] as? String } == ["Hi", "there"])
    }

    @Test func toolCallsAndResultsRoundTrip() throws {
        let out = try ok(#"""
        {"model":"m","max_completion_tokens":50,"messages":[
          {"role":"user","content":"Weather?"},
          {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
          {"role":"tool","tool_call_id":"call_1","content":"sunny"}],
         "tools":[{"type":"function","function":{"name":"get_weather","description":"d","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
         "tool_choice":{"type":"function","function":{"name":"get_weather"}},"parallel_tool_calls":false}
        """#)
        #expect(out["max_tokens"] as? Int == 50)
        let messages = out["messages"] as? [[String: Any]] ?? []
        #expect(messages.map { $0["role"] as? String } == ["user", "assistant", "user"])
        let use = (messages[1]["content"] as? [[String: Any]])?.first
        #expect(use?["type"] as? String == "tool_use" && use?["id"] as? String == "call_1" && use?["name"] as? String == "get_weather")
        #expect((use?["input"] as? [String: String]) == ["city": "Paris"])
        let result = (messages[2]["content"] as? [[String: Any]])?.first
        #expect(result?["type"] as? String == "tool_result" && result?["tool_use_id"] as? String == "call_1" && result?["content"] as? String == "sunny")
        let tool = (out["tools"] as? [[String: Any]])?.first
        #expect(tool?["name"] as? String == "get_weather" && tool?["input_schema"] is [String: Any] && tool?["description"] as? String == "d")
        let choice = out["tool_choice"] as? [String: Any]
        #expect(choice?["type"] as? String == "tool" && choice?["name"] as? String == "get_weather" && choice?["disable_parallel_tool_use"] as? Bool == true)
    }

    @Test func imagesBecomeImageBlocks() throws {
        let out = try ok(#"""
        {"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},
          {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
          {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}]}]}
        """#)
        let blocks = ((out["messages"] as? [[String: Any]])?.first?["content"] as? [[String: Any]]) ?? []
        #expect(blocks.count == 3)
        let b64 = blocks[1]["source"] as? [String: String]
        #expect(b64 == ["type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="])
        #expect((blocks[2]["source"] as? [String: String]) == ["type": "url", "url": "https://example.com/cat.jpg"])
    }

    @Test(arguments: ["logit_bias", "seed", "n", "logprobs", "response_format", "frequency_penalty"])
    func untranslatableFieldsAreRefusedByName(field: String) {
        let value: String = switch field {
        case "logit_bias": #"{"1":2}"#
        case "n": "2"
        case "logprobs": "true"
        case "response_format": #"{"type":"json_object"}"#
        case "frequency_penalty": "0.5"
        default: "7"
        }
        guard case .failure(let e) = translate(#"{"model":"m","messages":[{"role":"user","content":"x"}],"\#(field)":\#(value)}"#) else {
            Issue.record("\(field) should be refused"); return
        }
        #expect(e.status == 400 && e.param == field && e.message.contains(field))
    }

    @Test func harmlessDefaultsPass() throws {
        _ = try ok(#"{"model":"m","messages":[{"role":"user","content":"x"}],"n":1,"logprobs":false,"frequency_penalty":0,"response_format":{"type":"text"},"seed":null}"#)
    }

    @Test func temperatureAboveOneIsRefused() {
        guard case .failure(let e) = translate(#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":1.5}"#) else {
            Issue.record("expected refusal"); return
        }
        #expect(e.param == "temperature")
    }
}

@Suite struct AnthropicResponseTranslationTests {
    @Test func wholeResponseWithTextAndToolUse() throws {
        let t = AnthropicResponseTranslator(publicModel: "public-model", includeUsage: false)
        let body = #"""
        {"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"Let me check."},
         {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],"stop_reason":"tool_use","stop_sequence":null,
         "usage":{"input_tokens":10,"cache_read_input_tokens":4,"cache_creation_input_tokens":1,"output_tokens":7}}
        """#
        let (status, out) = t.translateWhole(status: 200, body: Array(body.utf8))
        #expect(status == 200)
        let j = try #require(try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any])
        #expect(j["object"] as? String == "chat.completion" && j["model"] as? String == "public-model")
        let choice = (j["choices"] as? [[String: Any]])?.first
        #expect(choice?["finish_reason"] as? String == "tool_calls")
        let message = choice?["message"] as? [String: Any]
        #expect(message?["content"] as? String == "Let me check.")
        let call = (message?["tool_calls"] as? [[String: Any]])?.first
        #expect(call?["id"] as? String == "toolu_1")
        let fn = call?["function"] as? [String: Any]
        #expect(fn?["name"] as? String == "get_weather" && fn?["arguments"] as? String == #"{"city":"Paris"}"#)
        let usage = j["usage"] as? [String: Any]
        #expect(usage?["prompt_tokens"] as? Int == 15 && usage?["completion_tokens"] as? Int == 7 && usage?["total_tokens"] as? Int == 22)
        #expect((usage?["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int == 4)
    }

    @Test(arguments: [("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"), ("tool_use", "tool_calls"), ("refusal", "content_filter")])
    func stopReasons(anthropic: String, openAI: String) {
        #expect(AnthropicResponseTranslator.finishReason(anthropic) == openAI)
    }

    @Test func errorsKeepStatusAndMessageInOpenAIShape() throws {
        let t = AnthropicResponseTranslator(publicModel: "m", includeUsage: false)
        let (status, out) = t.translateWhole(status: 400, body: Array(#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: too large"}}"#.utf8))
        #expect(status == 400)
        let error = (try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any])?["error"] as? [String: Any]
        #expect(error?["type"] as? String == "invalid_request_error")
        #expect(error?["code"] as? String == "invalid_request_error")
        #expect((error?["message"] as? String)?.contains("max_tokens: too large") == true)
        let (bad, _) = t.translateWhole(status: 200, body: Array("not json".utf8))
        #expect(bad == 502)
    }

    @Test func streamEventsBecomeOpenAIChunksEvenWhenSplit() throws {
        let upstream = """
        event: message_start\r\ndata: {"type":"message_start","message":{"id":"msg_9","usage":{"input_tokens":12,"output_tokens":1}}}\r\n\r\n\
        event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n\
        event: ping\ndata: {"type": "ping"}\n\n\
        event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}\n\n\
        event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}}\n\n\
        event: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_2","name":"f","input":{}}}\n\n\
        event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"a\\":"}}\n\n\
        event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"1}"}}\n\n\
        event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":9}}\n\n\
        event: message_stop\ndata: {"type":"message_stop"}\n\n
        """
        let t = AnthropicResponseTranslator(publicModel: "pm", includeUsage: true)
        var out: [UInt8] = []
        let bytes = Array(upstream.utf8)
        var i = 0
        while i < bytes.count {  // 7-byte pieces: every event straddles reads
            let piece = Array(bytes[i..<min(i + 7, bytes.count)])
            out += t.translateChunk(ByteBuffer(bytes: piece))
            i += 7
        }
        out += t.finishStream()
        let raw = String(decoding: out, as: UTF8.self).components(separatedBy: "\n\n").filter { !$0.isEmpty }
        let comments = raw.filter { $0.hasPrefix(":") }
        #expect(comments == [": tollgate-usage {\"prompt_tokens\":12,\"completion_tokens\":9,\"cached_tokens\":0}"])
        let events = raw.filter { !$0.hasPrefix(":") }.map { String($0.dropFirst(6)) }
        #expect(events.last == "[DONE]")
        #expect(events.filter { $0 == "[DONE]" }.count == 1)
        let chunks = try events.dropLast().map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" && $0["id"] as? String == "chatcmpl-msg_9" && $0["model"] as? String == "pm" })
        let deltas = chunks.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]) }
        #expect(deltas.first?["role"] as? String == "assistant")
        #expect(deltas.compactMap { $0["content"] as? String }.joined() == "Hello")
        let toolArgs = deltas.compactMap { ($0["tool_calls"] as? [[String: Any]])?.first?["function"] as? [String: Any] }.compactMap { $0["arguments"] as? String }.joined()
        #expect(toolArgs == #"{"a":1}"#)
        let finish = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
        #expect(finish == ["tool_calls"])
        let usage = chunks.last?["usage"] as? [String: Any]
        #expect(usage?["prompt_tokens"] as? Int == 12 && usage?["completion_tokens"] as? Int == 9)
        #expect((chunks.last?["choices"] as? [Any])?.isEmpty == true)
    }

    @Test func streamErrorEventsBecomeOpenAIErrors() {
        let t = AnthropicResponseTranslator(publicModel: "m", includeUsage: false)
        let out = t.translateChunk(ByteBuffer(string: "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"))
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.hasPrefix("data: {\"error\":{"))
        #expect(text.contains("overloaded_error") && text.contains("Overloaded"))
        #expect(t.finishStream().isEmpty, "no [DONE] after an error")
    }
}

@Suite struct SSEParserTests {
    @Test func splitsEventsAcrossReadsAndLineEndings() throws {
        var p = SSEParser()
        #expect(try p.feed(Array("event: a\nda".utf8)).isEmpty)
        #expect(try p.feed(Array("ta: 1\n".utf8)).isEmpty)
        #expect(try p.feed(Array("data: 2\r\n\r\ndata: x\n\n: comment\n\n".utf8)) == [.init(event: "a", data: Array("1\n2".utf8)), .init(event: nil, data: Array("x".utf8))])
    }
}
