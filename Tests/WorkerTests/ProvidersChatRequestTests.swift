import Foundation
import NIOCore
import NIOHTTP1
import Testing
import TollgateCore
@testable import Worker

/// The one decoded chat request every translator reads: what it decodes, how it refuses
/// hostile bodies (wrong types, huge numbers, deep nesting, broken JSON) with a 400 naming the
/// field, and that decoding stays linear.
@Suite struct ProvidersChatRequestTests {
    private func decode(_ json: String) -> Result<ChatRequest, GatewayError> {
        ChatRequest.decode(Array(json.utf8))
    }

    private func text(_ r: ChatRequest, _ span: JSONSpan?) -> String? {
        r.withBytes { JSONMembers.string($0, span) }
    }

    @Test func decodesTheTopLevelOnce() throws {
        let r = try decode(#"""
        {"model":"gpt-x","stream":true,"stream_options":{"include_usage":true},"max_tokens":10,"max_completion_tokens":20,
         "temperature":0.30,"top_p":1,"n":1,"seed":-7,"stop":["A","B"],"user":"u\u00e9","parallel_tool_calls":false,
         "response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object"}}},
         "tool_choice":{"type":"function","function":{"name":"lookup"}},"x_custom":[1,2],"metadata":null,
         "messages":[{"role":"user","content":"hi"}]}
        """#).get()
        #expect(r.model == "gpt-x" && r.stream && r.includeUsage && r.maxTokens == 20)
        let temperature = try #require(r.temperature)
        let literal = r.withBytes { String(decoding: UnsafeRawBufferPointer(rebasing: $0[temperature.literal]), as: UTF8.self) }
        #expect(temperature.value == 0.3)
        #expect(literal == "0.30", "the literal is kept as sent")
        #expect(r.topP?.value == 1 && r.n == 1 && r.seed == -7)
        #expect(r.stop == ["A", "B"] && r.user == "ué" && r.parallelToolCalls == false)
        let schema = try #require(r.responseFormat?.schema)
        let schemaText = r.withBytes { String(decoding: UnsafeRawBufferPointer(rebasing: $0[schema.range]), as: UTF8.self) }
        #expect(r.responseFormat?.type == "json_schema")
        #expect(schemaText == #"{"type":"object"}"#)
        #expect(r.toolChoice == .function(name: "lookup"))
        #expect(r.members.map(\.name).contains("x_custom"))
        #expect(r.member("metadata")?.kind == .null)
        let model = r.withBytes { JSONScanner.decodeString($0, r.modelRange) }
        #expect(r.streamOptionsRange != nil && model == "gpt-x")
    }

    @Test func decodesMessagesWithTheirToolCalls() throws {
        let r = try decode(#"""
        {"model":"m","messages":[
          {"role":"system","content":"Be brief."},
          {"role":"user","name":"ann","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},{"type":"input_audio","input_audio":{}}]},
          {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},
          {"role":"tool","tool_call_id":"c1","content":"42"}]}
        """#).get()
        let messages = try #require(r.decodeMessages())
        #expect(messages.map(\.role) == ["system", "user", "assistant", "tool"])
        guard case .parts(let parts) = messages[1].content else { Issue.record("parts expected"); return }
        #expect(parts.map(\.type) == ["text", "image_url", "input_audio"] && parts[1].imageURL == "data:image/png;base64,AAAA")
        #expect(text(r, parts[0].text) == "look" && messages[1].name == "ann")
        #expect(messages[2].toolCalls.first?.name == "f" && messages[2].toolCalls.first?.arguments == #"{"a":1}"#)
        guard case .absent = messages[2].content else { Issue.record("null content is absent"); return }
        #expect(messages[3].toolCallID == "c1" && messages[3].textSpans.count == 1)
    }

    @Test(arguments: [
        (#"{"model":"m","messages":{"role":"user"}}"#, "messages is an object"),
        (#"{"model":"m","messages":[1,2]}"#, "messages hold numbers"),
        (#"{"model":"m","messages":"hi"}"#, "messages is a string"),
    ])
    func wrongTypedMessagesReadAsMissing(body: String, why: String) throws {
        let r = try decode(body).get()
        #expect(r.decodeMessages() == nil, "\(why)")
        guard case .failure(let e) = AnthropicRequestTranslator.translate(r, upstreamModel: "c") else { Issue.record("\(why)"); return }
        #expect(e.status == 400 && e.param == "messages")
    }

    @Test func wrongTypedFieldsInsideAMessageReadAsAbsent() throws {
        let r = try decode(#"{"model":"m","messages":[{"role":7,"content":12,"tool_calls":"x","tool_call_id":[]}],"stop":[1],"tool_choice":true,"tools":{"a":1}}"#).get()
        let m = try #require(r.decodeMessages()?.first)
        #expect(m.role == nil && m.toolCalls.isEmpty && m.toolCallID == nil)
        guard case .invalid = m.content else { Issue.record("a number is not content"); return }
        #expect(r.stop == nil && r.toolChoice == .other && r.decodeTools() == nil)
        guard case .failure(let e) = AnthropicRequestTranslator.translate(r, upstreamModel: "c") else { Issue.record("role 7"); return }
        #expect(e.param == "messages[0].role")
    }

    @Test(arguments: [
        (#""max_tokens":1e400"#, "max_tokens"),
        (#""max_completion_tokens":99999999999999999999999"#, "max_completion_tokens"),
        (#""temperature":1e308"#, "temperature"),
        (#""top_p":-0.5"#, "top_p"),
        (#""seed":18446744073709551616"#, "seed"),
        (#""n":"3""#, "n"),
        (#""max_tokens":1.5"#, "max_tokens"),
    ])
    func hostileNumbersAre400NamingTheField(member: String, param: String) {
        guard case .failure(let e) = decode(#"{"model":"m",\#(member),"messages":[]}"#) else { Issue.record("accepted \(member)"); return }
        #expect(e.status == 400 && e.param == param && e.code == "invalid_value")
    }

    @Test(arguments: [
        ("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":" + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "}]}", "invalid_json"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}"#, "invalid_json"),
        ("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\u{1}\"}]}", "invalid_json"),
        (#"{"model":"m","model":"n","messages":[]}"#, "duplicate_key"),
        (#"{"messages":[]}"#, "missing_model"),
        (#"{"model":"","messages":[]}"#, "invalid_model"),
    ])
    func brokenBodiesAre400(body: String, code: String) {
        guard case .failure(let e) = decode(body) else { Issue.record("accepted \(body.prefix(60))"); return }
        #expect(e.status == 400 && e.code == code)
    }

    @Test func invalidUTF8Is400() {
        var bytes = Array(#"{"model":"m","messages":[{"role":"user","content":"ab"}]}"#.utf8)
        bytes[bytes.count - 6] = 0xFF
        guard case .failure(let e) = ChatRequest.decode(bytes) else { Issue.record("accepted invalid UTF-8"); return }
        #expect(e.code == "invalid_json")
    }

    @Test func deepSchemasAreCopiedNotDescended() throws {
        let deep = String(repeating: #"{"a":"#, count: 100) + "1" + String(repeating: "}", count: 100)
        let body = #"{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":\#(deep)}}]}"#
        let out = try TranslationHarness.anthropic(body, upstreamModel: "c").get()
        let schema = String(decoding: try JSONSerialization.data(withJSONObject: (out["tools"] as? [[String: Any]])?.first?["input_schema"] ?? [:]), as: UTF8.self)
        #expect(schema == deep, "the schema reaches the provider as the client wrote it")
    }

    /// Linear: four times the messages costs about four times the CPU (a quadratic decoder
    /// would cost sixteen). Thread CPU time, best of three, generous bound.
    @Test func decodingIsLinear() throws {
        func body(_ n: Int) -> [UInt8] {
            var s = #"{"model":"m","messages":["#
            for i in 0..<n { s += (i > 0 ? "," : "") + #"{"role":"user","content":[{"type":"text","text":"message number \#(i)"}]}"# }
            return Array((s + "]}").utf8)
        }
        func cost(_ bytes: [UInt8]) throws -> Double {
            var best = Double.infinity
            for _ in 0..<3 {
                let start = ProvidersBenchmark.threadCPUTime()
                let r = try ChatRequest.decode(bytes).get()
                #expect(r.decodeMessages()?.count ?? 0 > 0)
                best = min(best, ProvidersBenchmark.threadCPUTime() - start)
            }
            return best
        }
        let small = try cost(body(5_000))
        let large = try cost(body(20_000))
        #expect(large < small * 10, "5k messages: \(small) s, 20k: \(large) s")
    }

    @Test func aRewrittenBodyDropsTheStaleDecode() throws {
        let body = ByteBuffer(string: #"{"model":"m","messages":[]}"#)
        let ctx = RequestContext(head: HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/chat/completions"), body: body,
                                 query: "", endpoint: .chatCompletions, requestID: "r", config: try GatewayConnectionHandlerTests.config())
        _ = RequestParsingFilter(config: try GatewayConnectionHandlerTests.config()).onRequest(ctx)
        #expect(ctx.chatRequest?.model == "m")
        ctx.body = ByteBuffer(string: #"{"model":"m","messages":[{"role":"user","content":"[REDACTED:EMAIL]"}]}"#)
        #expect(ctx.chatRequest == nil, "the spans pointed into the old bytes")
    }

    @Test func theBuilderPlacesCommas() {
        var b = JSONBuilder()
        b.beginObject()
        b.key("a")
        b.beginArray()
        b.int(Int.min)
        b.int(0)
        b.beginObject()
        b.endObject()
        b.string("q\"")
        b.endArray()
        b.key("b")
        b.null()
        b.key("c")
        b.bool(false)
        b.endObject()
        #expect(String(decoding: b.bytes, as: UTF8.self) == #"{"a":[-9223372036854775808,0,{},"q\""],"b":null,"c":false}"#)
    }

    @Test func agentRequestsTranslateForEveryProvider() throws {
        let body = ProvidersBenchInputs.agentRequest(bytes: 100 * 1024, tools: 40)
        let chat = try ChatRequest.decode(body).get()
        let original = try #require(TranslationHarness.object(body))
        let messageCount = (original["messages"] as? [Any])?.count ?? 0
        let anthropic = try #require(TranslationHarness.object(try AnthropicRequestTranslator.translate(chat, upstreamModel: "c").get()))
        #expect((anthropic["tools"] as? [Any])?.count == 40 && anthropic["system"] is String)
        let gemini = try #require(TranslationHarness.object(try GeminiRequestTranslator.translate(chat).get()))
        #expect(((gemini["tools"] as? [[String: Any]])?.first?["functionDeclarations"] as? [Any])?.count == 40)
        let bedrock = try #require(TranslationHarness.object(try BedrockConverseTranslator.translate(chat).get()))
        // system + (user, assistant, tool) × turns + final user: tool results join the next user turn.
        #expect(((bedrock["messages"] as? [Any])?.count ?? 0) > 0 && messageCount > 60)
        let front = ProvidersBenchInputs.anthropicRequest(bytes: 100 * 1024, tools: 40)
        let openAI = try #require(TranslationHarness.object(try AnthropicToOpenAIRequest.translate(front, upstreamModel: "g").get()))
        #expect((openAI["tools"] as? [Any])?.count == 40)
    }
}
