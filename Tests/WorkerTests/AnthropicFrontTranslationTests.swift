import Foundation
import NIOCore
import Testing
import TollgateCore
@testable import Worker

@Suite struct AnthropicFrontRequestTests {
    private func translate(_ json: String) -> Result<[String: Any], GatewayError> {
        TranslationHarness.anthropicFront(json, upstreamModel: "gpt-x")
    }

    @Test func conversationWithToolsBecomesOpenAIMessages() throws {
        guard case .success(let out) = translate(#"""
        {"model":"claude","max_tokens":100,"system":[{"type":"text","text":"Be terse."}],"stream":true,"stop_sequences":["END"],
         "metadata":{"user_id":"u9"},"thinking":{"type":"disabled"},
         "messages":[
           {"role":"user","content":"Weather in Paris?"},
           {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"text","text":"Checking."},
             {"type":"tool_use","id":"toolu_1","name":"weather","input":{"city":"Paris"}}]},
           {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"sunny"}]},
             {"type":"text","text":"And tomorrow?"},{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"AAA="}}]}],
         "tools":[{"name":"weather","description":"w","input_schema":{"type":"object"}}],
         "tool_choice":{"type":"any","disable_parallel_tool_use":true}}
        """#) else { Issue.record("expected success"); return }
        #expect(out["model"] as? String == "gpt-x" && out["max_tokens"] as? Int == 100 && out["stream"] as? Bool == true)
        #expect((out["stream_options"] as? [String: Bool]) == ["include_usage": true])
        #expect(out["stop"] as? [String] == ["END"] && out["user"] as? String == "u9")
        let messages = out["messages"] as? [[String: Any]] ?? []
        #expect(messages.map { $0["role"] as? String } == ["system", "user", "assistant", "tool", "user"])
        #expect(messages[0]["content"] as? String == "Be terse.")
        #expect(messages[2]["content"] as? String == "Checking.")
        let call = (messages[2]["tool_calls"] as? [[String: Any]])?.first
        #expect(call?["id"] as? String == "toolu_1")
        #expect((call?["function"] as? [String: Any])?["arguments"] as? String == #"{"city":"Paris"}"#)
        #expect(messages[3]["tool_call_id"] as? String == "toolu_1" && messages[3]["content"] as? String == "sunny")
        let parts = messages[4]["content"] as? [[String: Any]] ?? []
        #expect(parts.count == 2)
        #expect((parts[1]["image_url"] as? [String: String])?["url"] == "data:image/jpeg;base64,AAA=")
        #expect(out["tool_choice"] as? String == "required" && out["parallel_tool_calls"] as? Bool == false)
        let fn = (out["tools"] as? [[String: Any]])?.first?["function"] as? [String: Any]
        #expect(fn?["name"] as? String == "weather" && fn?["description"] as? String == "w")
    }

    @Test(arguments: [
        (#""top_k":5"#, "top_k"),
        (#""thinking":{"type":"enabled","budget_tokens":1024}"#, "thinking"),
        (#""tools":[{"type":"web_search_20250305","name":"web_search"}]"#, "tools[0]"),
    ])
    func untranslatableFieldsAreNamed(extra: String, param: String) {
        guard case .failure(let e) = translate(#"{"model":"c","max_tokens":10,"messages":[{"role":"user","content":"x"}],\#(extra)}"#) else {
            Issue.record("\(param) should be refused"); return
        }
        #expect(e.status == 400 && e.param == param)
    }

    @Test func maxTokensIsRequiredLikeAnthropic() {
        guard case .failure(let e) = translate(#"{"model":"c","messages":[{"role":"user","content":"x"}]}"#) else { Issue.record("expected failure"); return }
        #expect(e.param == "max_tokens")
    }
}

@Suite struct AnthropicFrontResponseTests {
    @Test func wholeCompletionBecomesAMessage() throws {
        let t = OpenAIToAnthropicResponse(publicModel: "claude-via-gpt", price: nil)
        let body = #"""
        {"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"On it.",
         "tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},"finish_reason":"tool_calls"}],
         "usage":{"prompt_tokens":20,"completion_tokens":6,"prompt_tokens_details":{"cached_tokens":5}}}
        """#
        let (status, out) = t.translateWhole(status: 200, body: Array(body.utf8))
        #expect(status == 200)
        let j = try #require(try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any])
        #expect(j["type"] as? String == "message" && j["role"] as? String == "assistant" && j["model"] as? String == "claude-via-gpt")
        #expect(j["stop_reason"] as? String == "tool_use")
        let content = j["content"] as? [[String: Any]] ?? []
        #expect(content.first?["text"] as? String == "On it.")
        #expect(content.last?["type"] as? String == "tool_use" && (content.last?["input"] as? [String: Int]) == ["a": 1])
        let usage = j["usage"] as? [String: Int]
        #expect(usage?["input_tokens"] == 15 && usage?["cache_read_input_tokens"] == 5 && usage?["output_tokens"] == 6)
    }

    @Test func openAIErrorsBecomeAnthropicErrors() throws {
        let t = OpenAIToAnthropicResponse(publicModel: "m", price: nil)
        let (status, out) = t.translateWhole(status: 400, body: Array(#"{"error":{"message":"bad things","type":"invalid_request_error"}}"#.utf8))
        #expect(status == 400)
        let j = try #require(try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any])
        #expect(j["type"] as? String == "error")
        #expect((j["error"] as? [String: String])?["type"] == "invalid_request_error")
        #expect((j["error"] as? [String: String])?["message"]?.contains("bad things") == true)
    }

    @Test func streamBecomesTheDocumentedEventSequence() throws {
        let upstream = """
        data: {"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}

        data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}

        data: {"id":"c1","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}

        data: {"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_7","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}]}

        data: {"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"a\\":1}"}}]},"finish_reason":null}]}

        data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}

        data: {"id":"c1","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":4}}

        data: [DONE]


        """
        let t = OpenAIToAnthropicResponse(publicModel: "m", price: nil)
        var out: [UInt8] = []
        let bytes = Array(upstream.utf8)
        for start in stride(from: 0, to: bytes.count, by: 9) {
            out += t.translateChunk(ByteBuffer(bytes: Array(bytes[start..<min(start + 9, bytes.count)])))
        }
        out += t.finishStream()
        var parser = SSEParser()
        let events = try parser.feed(out)
        #expect(events.map { $0.event ?? "-" } == ["message_start", "content_block_start", "content_block_delta", "content_block_delta",
                                                   "content_block_stop", "content_block_start", "content_block_delta", "content_block_stop",
                                                   "message_delta", "message_stop"])
        let objects = events.map { (try? JSONSerialization.jsonObject(with: Data($0.data)) as? [String: Any]) ?? [:] }
        #expect(objects.allSatisfy { !$0.isEmpty })
        #expect(objects.map { $0["type"] as? String } == events.map(\.event))
        let texts = objects.compactMap { ($0["delta"] as? [String: Any])?["text"] as? String }
        #expect(texts.joined() == "Hello")
        #expect(((objects[5]["content_block"] as? [String: Any])?["id"] as? String) == "call_7")
        #expect(((objects[6]["delta"] as? [String: Any])?["partial_json"] as? String) == #"{"a":1}"#)
        #expect(((objects[8]["delta"] as? [String: Any])?["stop_reason"] as? String) == "tool_use")
        #expect(((objects[8]["usage"] as? [String: Int])?["output_tokens"]) == 4)
        #expect(String(decoding: out, as: UTF8.self).hasSuffix(": tollgate-usage {\"prompt_tokens\":11,\"completion_tokens\":4,\"cached_tokens\":0}\n\n"))
    }
}
