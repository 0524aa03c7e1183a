import Foundation
import Guardrails
import Testing
import TollgateCore

/// One table per front: a request (or response) with a unique e-mail marker in every text
/// field the provider reads. Redacting e-mails must reach every marker (a field the walker
/// skips keeps its marker and fails the test), splice valid JSON, and leave every other byte
/// alone. The fixture itself is checked for completeness: every string in it is either a
/// marker-carrying text field or listed as not text (ids, roles, types, URLs, base64), so a new
/// text field cannot be added to a fixture without a marker.
@Suite struct GuardrailWalkerTests {
    static let engine = GuardrailEngine(policies: [GuardrailPolicy(name: "p", checks: [
        GuardrailCheck(name: "pii", kind: .pii([.email]), action: .redact),
    ])])

    /// Keys whose string values are not text a model reads as prose.
    static let notText: Set<String> = ["model", "role", "type", "id", "tool_call_id", "tool_use_id", "url", "detail", "tool_choice",
                                       "media_type", "signature", "encoding_format", "user_id", "k", "finish_reason", "stop_reason",
                                       "object"]
    /// Opaque values (base64) in the fixtures.
    static let opaque: Set<String> = ["iVBORw0KGgo=", "AAAA"]

    static let openAIChat = #"""
    {"model":"gpt-4o","user":"m01@w.example","stream":false,"max_tokens":100,"tool_choice":"auto","metadata":{"k":"v"},
     "messages":[
      {"role":"system","content":"sys m02@w.example","name":"m03@w.example"},
      {"role":"user","name":"m04@w.example","content":[{"type":"text","text":"hi m05@w.example"},
        {"type":"image_url","image_url":{"url":"https://img.example/a.png","detail":"low"}}]},
      {"role":"assistant","content":null,"refusal":"m06@w.example","tool_calls":[{"id":"call_1","type":"function",
        "function":{"name":"m07@w.example","arguments":"{\"to\":\"m08@w.example\"}"}}]},
      {"role":"tool","tool_call_id":"call_1","content":"result m09@w.example"},
      {"role":"assistant","content":[{"type":"text","text":"m10@w.example"},{"type":"refusal","refusal":"m11@w.example"}],
        "function_call":{"name":"m12@w.example","arguments":"m13@w.example"}},
      {"role":"function","name":"m14@w.example","content":"m15@w.example"}
     ],
     "tools":[{"type":"function","function":{"name":"m16@w.example","description":"m17@w.example","parameters":{"type":"object",
       "properties":{"m18@w.example":{"type":"string","description":"m19@w.example","enum":["m20@w.example"]}},"required":["m21@w.example"]}}}],
     "functions":[{"name":"m22@w.example","description":"m23@w.example","parameters":{"properties":{"a":{"description":"m24@w.example"}}}}],
     "response_format":{"type":"json_schema","json_schema":{"name":"m25@w.example","description":"m26@w.example","strict":true,
       "schema":{"type":"object","properties":{"b":{"description":"m27@w.example","default":"m28@w.example"}}}}},
     "prediction":{"type":"content","content":"m29@w.example"}}
    """#

    static let openAIChatPredictionParts = #"""
    {"model":"gpt-4o","messages":[{"role":"user","content":"m01@w.example"}],
     "prediction":{"type":"content","content":[{"type":"text","text":"m02@w.example"}]}}
    """#

    static let openAIEmbeddings = #"{"model":"e","input":["m01@w.example","m02@w.example"],"user":"m03@w.example","encoding_format":"float"}"#
    static let openAIEmbeddingsString = #"{"model":"e","input":"m01@w.example"}"#

    static let anthropic = #"""
    {"model":"claude","max_tokens":10,"metadata":{"user_id":"u-1"},"tool_choice":{"type":"auto"},
     "system":[{"type":"text","text":"m01@w.example","cache_control":{"type":"ephemeral"}}],
     "messages":[
      {"role":"user","content":[
        {"type":"text","text":"m02@w.example"},
        {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
        {"type":"document","title":"m03@w.example","context":"m04@w.example","source":{"type":"text","media_type":"text/plain","data":"m05@w.example"}},
        {"type":"document","source":{"type":"content","content":[{"type":"text","text":"m06@w.example"}]}},
        {"type":"search_result","source":"m07@w.example","title":"m08@w.example","content":[{"type":"text","text":"m09@w.example"}]}
      ]},
      {"role":"assistant","content":[
        {"type":"thinking","thinking":"m10@w.example","signature":"sig"},
        {"type":"text","text":"m11@w.example"},
        {"type":"tool_use","id":"toolu_1","name":"m12@w.example","input":{"m13@w.example":"m14@w.example","nested":[{"q":"m15@w.example"}]}}
      ]},
      {"role":"user","content":[
        {"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"m16@w.example"}]},
        {"type":"tool_result","tool_use_id":"toolu_2","content":"m17@w.example","is_error":true}
      ]},
      {"role":"assistant","content":"prefill m18@w.example"}
     ],
     "tools":[{"name":"m19@w.example","description":"m20@w.example","input_schema":{"type":"object",
       "properties":{"m21@w.example":{"type":"string","description":"m22@w.example"}}}}]}
    """#

    static let anthropicStringSystem = #"{"model":"c","max_tokens":1,"system":"m01@w.example","messages":[{"role":"user","content":"m02@w.example"}]}"#

    static let openAIResponse = #"""
    {"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant",
     "content":"m01@w.example","refusal":"m02@w.example","tool_calls":[{"id":"call_1","type":"function",
     "function":{"name":"m03@w.example","arguments":"{\"a\":\"m04@w.example\"}"}}],"function_call":{"name":"m05@w.example","arguments":"m06@w.example"},
     "audio":{"id":"a1","data":"AAAA","transcript":"m07@w.example"}}}]}
    """#

    static let anthropicResponse = #"""
    {"id":"msg","type":"message","role":"assistant","model":"c","stop_reason":"end_turn","content":[
     {"type":"thinking","thinking":"m01@w.example","signature":"s"},{"type":"text","text":"m02@w.example"},
     {"type":"tool_use","id":"t","name":"m03@w.example","input":{"k2":"m04@w.example"}}]}
    """#

    static let table: [(String, String, GuardrailDocument)] = [
        ("openai chat", openAIChat, .openAIChatRequest),
        ("openai chat prediction parts", openAIChatPredictionParts, .openAIChatRequest),
        ("openai embeddings", openAIEmbeddings, .openAIEmbeddingsRequest),
        ("openai embeddings string", openAIEmbeddingsString, .openAIEmbeddingsRequest),
        ("anthropic messages", anthropic, .anthropicMessagesRequest),
        ("anthropic string system", anthropicStringSystem, .anthropicMessagesRequest),
        ("openai chat response", openAIResponse, .openAIChatResponse),
        ("anthropic messages response", anthropicResponse, .anthropicMessagesResponse),
    ]

    static func markers(in s: String) -> [String] {
        let regex = /m[0-9]{2}@w\.example/
        return s.matches(of: regex).map { String($0.output) }
    }

    /// Every string leaf value with the key it sits under.
    static func leaves(_ value: Any, key: String = "", into out: inout [(String, String)]) {
        switch value {
        case let s as String: out.append((key, s))
        case let a as [Any]: for e in a { leaves(e, key: key, into: &out) }
        case let d as [String: Any]: for (k, v) in d { leaves(v, key: k, into: &out) }
        default: break
        }
    }

    @Test(arguments: table.indices)
    func everyTextFieldIsWalkedAndRedacted(_ k: Int) throws {
        let (name, json, document) = Self.table[k]
        let body = Array(json.utf8)
        let original = try JSONSerialization.jsonObject(with: Data(body))
        // Fixture completeness: each string is a marked text field or declared not text.
        var all: [(String, String)] = []
        Self.leaves(original, into: &all)
        for (key, value) in all where Self.markers(in: value).isEmpty {
            #expect(Self.notText.contains(key) || Self.opaque.contains(value),
                    "\(name): string \(value.debugDescription) under '\(key)' has no marker and is not declared as non-text")
        }
        let expected = Set(Self.markers(in: json))
        #expect(expected.count == Self.markers(in: json).count, "\(name): markers must be unique")

        let result = GuardrailJSONRewriter.scan(body, document: document, engine: Self.engine, direction: .prompt)
        let out = try #require(result.body.map { String(decoding: $0, as: UTF8.self) }, "\(name): nothing redacted")
        let missed = Self.markers(in: out)
        #expect(missed.isEmpty, "\(name): fields not walked: \(missed)")
        #expect(out.components(separatedBy: "[REDACTED:EMAIL]").count - 1 == expected.count, "\(name)")
        // Valid JSON, same shape: every non-text string is byte-for-byte what it was.
        let rewritten = try JSONSerialization.jsonObject(with: Data(out.utf8))
        var after: [(String, String)] = []
        Self.leaves(rewritten, into: &after)
        let before = all.filter { Self.markers(in: $0.1).isEmpty && Self.notText.contains($0.0) }.map { "\($0.0)=\($0.1)" }.sorted()
        let kept = after.filter { !$0.1.contains("[REDACTED") && Self.notText.contains($0.0) }.map { "\($0.0)=\($0.1)" }.sorted()
        #expect(before == kept, "\(name)")
        // Each redacted field kept its surrounding text.
        #expect(out.contains("sys [REDACTED:EMAIL]") || !json.contains("sys m02"))
        #expect(out.contains("prefill [REDACTED:EMAIL]") || !json.contains("prefill m18"))
    }

    @Test func embeddingTokenArraysAreSkipped() {
        let body = Array(#"{"model":"e","input":[[1,2,3],[4]]}"#.utf8)
        #expect(body.withUnsafeBytes { GuardrailDocument.openAIEmbeddingsRequest.textFields(in: $0) }.isEmpty)
    }

    @Test func contentBlockStartStringsAreWalked() {
        let event = Array(#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"f","input":{"to":"m01@w.example"}}}"#.utf8)
        let result = GuardrailJSONRewriter.scan(event, document: .anthropicContentBlockStart, engine: Self.engine, direction: .response)
        #expect(result.body.map { String(decoding: $0, as: UTF8.self) }
            == #"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"f","input":{"to":"[REDACTED:EMAIL]"}}}"#)
    }
}
