import Foundation
import NIOCore
import Testing
import TollgateCore
@testable import Worker

@Suite struct GeminiTranslationTests {
    @Test func requestMapsRolesToolsAndGenerationConfig() throws {
        let json = #"""
        {"model":"g","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hi"},
          {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},
          {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"x\"}"}}]},
          {"role":"tool","tool_call_id":"call_1","content":"{\"answer\":42}"}],
         "max_tokens":77,"temperature":0.3,"stop":["END"],"response_format":{"type":"json_object"},
         "tools":[{"type":"function","function":{"name":"lookup","description":"d","parameters":{"type":"object"}}}],"tool_choice":"required"}
        """#
        guard case .success(let out) = TranslationHarness.gemini(json) else { Issue.record("expected success"); return }
        #expect(((out["systemInstruction"] as? [String: Any])?["parts"] as? [[String: String]]) == [["text": "Be brief."]])
        let contents = out["contents"] as? [[String: Any]] ?? []
        #expect(contents.map { $0["role"] as? String } == ["user", "model", "user"])
        let userParts = contents[0]["parts"] as? [[String: Any]] ?? []
        #expect((userParts[1]["inlineData"] as? [String: String]) == ["mimeType": "image/png", "data": "AAAA"])
        let call = (contents[1]["parts"] as? [[String: Any]])?.first?["functionCall"] as? [String: Any]
        #expect(call?["name"] as? String == "lookup" && (call?["args"] as? [String: String]) == ["q": "x"])
        let response = (contents[2]["parts"] as? [[String: Any]])?.first?["functionResponse"] as? [String: Any]
        #expect(response?["name"] as? String == "lookup" && (response?["response"] as? [String: Int]) == ["answer": 42])
        let gen = out["generationConfig"] as? [String: Any]
        #expect(gen?["maxOutputTokens"] as? Int == 77 && gen?["temperature"] as? Double == 0.3)
        #expect(gen?["stopSequences"] as? [String] == ["END"] && gen?["responseMimeType"] as? String == "application/json")
        #expect((((out["toolConfig"] as? [String: Any])?["functionCallingConfig"]) as? [String: String]) == ["mode": "ANY"])
    }

    @Test func refusalsNameTheField() {
        guard case .failure(let e) = TranslationHarness.gemini(#"{"model":"g","messages":[],"logit_bias":{"1":1}}"#) else {
            Issue.record("expected failure"); return
        }
        #expect(e.param == "logit_bias")
        guard case .failure(let e2) = TranslationHarness.gemini(#"{"model":"g","messages":[{"role":"tool","tool_call_id":"nope","content":"x"}]}"#) else {
            Issue.record("expected failure"); return
        }
        #expect(e2.param == "messages[0].tool_call_id")
    }

    @Test func wholeAndStreamedResponses() throws {
        let t = GeminiResponseTranslator(publicModel: "gm", includeUsage: true, price: nil)
        let body = #"{"candidates":[{"content":{"role":"model","parts":[{"text":"Hi "},{"text":"there"},{"functionCall":{"name":"f","args":{"a":1}}}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":3,"thoughtsTokenCount":2},"responseId":"r1"}"#
        let (status, out) = t.translateWhole(status: 200, body: Array(body.utf8))
        #expect(status == 200)
        let j = try #require(try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any])
        let choice = (j["choices"] as? [[String: Any]])?.first
        #expect(choice?["finish_reason"] as? String == "tool_calls")
        let message = choice?["message"] as? [String: Any]
        #expect(message?["content"] as? String == "Hi there")
        #expect((((message?["tool_calls"] as? [[String: Any]])?.first?["function"]) as? [String: String])?["arguments"] == #"{"a":1}"#)
        #expect((j["usage"] as? [String: Any])?["completion_tokens"] as? Int == 5)

        let s = GeminiResponseTranslator(publicModel: "gm", includeUsage: false, price: nil)
        let stream = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"A\"}]}}],\"responseId\":\"r2\"}\r\n\r\n"
            + "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"B\"}]},\"finishReason\":\"MAX_TOKENS\"}],\"usageMetadata\":{\"promptTokenCount\":4,\"candidatesTokenCount\":2}}\r\n\r\n"
        var bytes = s.translateChunk(ByteBuffer(string: stream))
        bytes += s.finishStream()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\"delta\":{\"content\":\"A\"}") && text.contains("\"delta\":{\"content\":\"B\"}"))
        #expect(text.contains("\"finish_reason\":\"length\""))
        #expect(text.contains(": tollgate-usage {\"prompt_tokens\":4,\"completion_tokens\":2"))
        #expect(text.hasSuffix("data: [DONE]\n\n"))
        #expect(text.contains("\"id\":\"chatcmpl-r2\""))
    }

    @Test func upstreamErrorsKeepTheirStatus() throws {
        let t = GeminiResponseTranslator(publicModel: "gm", includeUsage: false, price: nil)
        let (status, out) = t.translateWhole(status: 400, body: Array(#"{"error":{"code":400,"message":"bad arg","status":"INVALID_ARGUMENT"}}"#.utf8))
        #expect(status == 400)
        #expect(String(decoding: out, as: UTF8.self).contains("\"code\":\"INVALID_ARGUMENT\""))
    }
}
