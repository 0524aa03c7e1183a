import Testing
@testable import WAF

/// The copy ModSecurity inspects: prompt strings blanked, every other byte as sent.
struct WAFPromptBlankerTests {
    func blank(_ body: String) -> String? {
        var body = body
        return body.withUTF8 { WAFPromptBlanker.blank(UnsafeRawBufferPointer($0)) }.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func chatContentIsBlankedAndEverythingElseKept() {
        let body = #"{"model":"gpt-4o","messages":[{"role":"user","name":"bob","content":"DROP TABLE x"}],"user":"u-1","temperature":0.5}"#
        #expect(blank(body) == #"{"model":"gpt-4o","messages":[{"role":"user","name":"bob","content":""}],"user":"u-1","temperature":0.5}"#)
    }

    @Test func contentPartsAndAnthropicBlocksAreBlankedBelowContent() {
        let body = #"{"messages":[{"role":"user","content":[{"type":"text","text":"<script>"},{"type":"image_url","image_url":{"url":"https://x/y.png"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"' OR 1=1"}]}]}]}"#
        #expect(blank(body) == #"{"messages":[{"role":"user","content":[{"type":"","text":""},{"type":"","image_url":{"url":""}}]},{"role":"user","content":[{"type":"","tool_use_id":"","content":[{"type":"","text":""}]}]}]}"#)
    }

    @Test func toolCallArgumentsSystemInputAndToolsAreBlanked() {
        let body = #"{"system":[{"type":"text","text":"sys"}],"instructions":"i","prompt":"p","input":["a","b"],"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"sql","arguments":"{\"q\":\"x\"}"}}],"function_call":{"name":"f","arguments":"{}"}}],"tools":[{"type":"function","function":{"name":"n","description":"d","parameters":{"type":"object"}}}],"functions":["scalar"]}"#
        #expect(blank(body) == #"{"system":[{"type":"","text":""}],"instructions":"","prompt":"","input":["",""],"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"sql","arguments":""}}],"function_call":{"name":"f","arguments":""}}],"tools":[{"type":"","function":{"name":"","description":"","parameters":{"type":""}}}],"functions":["scalar"]}"#)
    }

    @Test func lookalikeFieldsAndNestedNamesStayInspected() {
        // Only the exact places: `content_type`, a nested `messages`, `metadata.system` stay.
        let body = #"{"messages":[{"role":"user","content_type":"<x>","content":"hi"}],"metadata":{"system":"<x>","messages":[{"content":"<x>"}]},"model":"m"}"#
        #expect(blank(body) == #"{"messages":[{"role":"user","content_type":"<x>","content":""}],"metadata":{"system":"<x>","messages":[{"content":"<x>"}]},"model":"m"}"#)
    }

    @Test func escapedQuotesAndWhitespaceAreFollowed() {
        let body = "{ \"messages\" : [ { \"content\" : \"a \\\" \\\\\" , \"role\" : \"user\\\"\" } ] ,\n\"user\":\"z\" }\n"
        #expect(blank(body) == "{ \"messages\" : [ { \"content\" : \"\" , \"role\" : \"user\\\"\" } ] ,\n\"user\":\"z\" }\n")
    }

    @Test func aKeyWrittenWithEscapesIsNotSpared() {
        // Decoded it is `content`, but the walker compares raw bytes: inspected, never hidden.
        #expect(blank(#"{"messages":[{"con\u0074ent":"<script>"}]}"#) == nil)
    }

    @Test(arguments: [
        "", "[]", #"["content"]"#, "{", #"{"messages":[{"content":"x"}]"#, #"{"messages":[{"content":"x"]}"#,
        #"{"messages" [1]}"#, #"{"messages":[{"content":"x"}]} trailing"#, #"{"messages":[{"content":"unterminated}]}"#,
        "{\"messages\":[{\"content\":\"raw\ncontrol\"}]}", #"{"messages":[{"content":@}]}"#, #"{"model":"m"}"#,
        #"{"messages":[{"content":"x",}]}"#, #"{"messages":[{"content":"x"},]}"#, #"{"messages":[{"content":"x"}]}}"#,
    ])
    func whatTheWalkerCannotFollowOrNeedNotChangeIsHandedOverUnchanged(body: String) {
        #expect(blank(body) == nil)
    }

    @Test func nestingBeyondTheCapIsHandedOverUnchanged() {
        let deep = #"{"messages":[{"content":"# + String(repeating: "[", count: 300) + "\"x\"" + String(repeating: "]", count: 300) + "}]}"
        #expect(blank(deep) == nil)
        let fine = #"{"messages":[{"content":"# + String(repeating: "[", count: 100) + "\"x\"" + String(repeating: "]", count: 100) + "}]}"
        #expect(blank(fine) == #"{"messages":[{"content":"# + String(repeating: "[", count: 100) + "\"\"" + String(repeating: "]", count: 100) + "}]}")
    }

    @Test func anAgentSizedBodyKeepsItsShape() {
        var turns: [String] = []
        for i in 0..<2000 { turns.append(#"{"role":"user","content":"turn \#(i) with some text"}"#) }
        let body = #"{"model":"m","messages":["# + turns.joined(separator: ",") + #"],"user":"<keep>"}"#
        let out = blank(body)
        #expect(out?.contains(#""user":"<keep>""#) == true)
        #expect(out?.contains("turn") == false)
        #expect(out?.components(separatedBy: #""content":"""#).count == 2001)
    }
}
