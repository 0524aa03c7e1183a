import Guardrails
import Testing
import TollgateCore

@Suite struct RedactionTests {
    static func engine(_ action: GuardrailAction = .redact, shadow: Bool = false, extra: [GuardrailCheck] = []) -> GuardrailEngine {
        let checks = [GuardrailCheck(name: "pii", kind: .pii(PIIDetector.allCases), action: action, shadow: shadow)] + extra
        return GuardrailEngine(policies: [GuardrailPolicy(name: "p", checks: checks)])
    }

    @Test func replacesSpansAndKeepsTheRest() {
        let r = Self.engine().scan("Card 4111 1111 1111 1111, mail a@example.com; ok", direction: .prompt)
        #expect(r.verdict == .redact)
        #expect(String(decoding: r.redacted!, as: UTF8.self) == "Card [REDACTED:CREDIT_CARD], mail [REDACTED:EMAIL]; ok")
        #expect(r.findings.map(\.rule) == ["credit_card", "email"])
    }

    /// fuzz-guardrails: an AWS secret key confirmed by its context ("aws …") was redacted only
    /// where the context was, so a second copy further on leaked verbatim.
    @Test func aConfirmedSecretIsRedactedWhereverItRepeats() {
        let key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        let text = "aws key " + key + " " + String(repeating: "x", count: 60) + " " + key
        let r = Self.engine().scan(text, direction: .prompt)
        let out = String(decoding: r.redacted ?? [], as: UTF8.self)
        #expect(!out.contains(key), "\(out)")
        #expect(out.components(separatedBy: "[REDACTED:AWS_SECRET_KEY]").count == 3, "\(out)")
        // The same 40-character shape with no confirmed twin and no context stays: it is
        // most often a hash.
        let bare = String(repeating: "x", count: 100) + " " + key
        #expect(Self.engine().scan(bare, direction: .prompt).redacted == nil)
    }

    @Test func overlappingSpansMergeUnderTheLongestType() {
        let merged = Redactor.merge([.init(range: 2..<6, type: "A"), .init(range: 0..<4, type: "B"), .init(range: 5..<12, type: "C"), .init(range: 20..<22, type: "D")])
        #expect(merged == [.init(range: 0..<12, type: "C"), .init(range: 20..<22, type: "D")])
    }

    @Test func shadowAndAllowChangeNothing() {
        for (action, shadow) in [(GuardrailAction.allow, false), (.block, true), (.redact, true)] {
            let r = Self.engine(action, shadow: shadow).scan("ssn 123-45-6789", direction: .prompt)
            #expect(r.verdict == .allow)
            #expect(r.redacted == nil)
            #expect(r.findings.count == 1 && r.findings[0].shadow == shadow)
        }
    }

    @Test func blockWinsAndNamesTheRule() {
        let keywords = GuardrailCheck(name: "blocklist", kind: .keywords(KeywordMatcher(strings: ["project falcon"]), wholeWord: true), action: .block)
        let r = Self.engine(extra: [keywords]).scan("about Project  Falcon and PROJECT FALCON, mail a@b.io", direction: .prompt)
        #expect(r.verdict == .block)
        #expect(r.blockingFinding?.check == "blocklist")
        #expect(r.blockingFinding?.range == 26..<40) // the double-spaced first mention is no match
    }

    @Test func appliesToRestrictsTheDirection() {
        let check = GuardrailCheck(name: "pii", kind: .pii([.email]), action: .block, appliesTo: .response)
        let engine = GuardrailEngine(policies: [GuardrailPolicy(name: "p", checks: [check])])
        #expect(engine.scan("a@example.com", direction: .prompt).verdict == .allow)
        #expect(engine.scan("a@example.com", direction: .response).verdict == .block)
    }

    @Test func customRegexUsesItsNameAsType() throws {
        let rule = try CustomRegexRule(name: "ticket-id", pattern: #"TCK-[0-9]{4}"#)
        let engine = GuardrailEngine(policies: [GuardrailPolicy(name: "p", checks: [GuardrailCheck(name: "re", kind: .regex([rule]), action: .redact)])])
        let r = engine.scan("é TCK-1234 é", direction: .prompt)
        #expect(String(decoding: r.redacted!, as: UTF8.self) == "é [REDACTED:TICKET_ID] é")
        #expect(throws: (any Error).self) { try CustomRegexRule(name: "bad", pattern: "(unclosed") }
    }

    // MARK: - JSON bodies

    static func rewrite(_ json: String, _ document: GuardrailDocument) -> (String?, GuardrailJSONRewriter.Result) {
        let r = GuardrailJSONRewriter.scan(Array(json.utf8), document: document, engine: engine(), direction: .prompt)
        return (r.body.map { String(decoding: $0, as: UTF8.self) }, r)
    }

    @Test func openAIChatBodyIsByteIdenticalOutsideRedactedStrings() {
        let body = #"{ "model":"gpt-4o",  "messages":[{"role":"system","content":"be nice"},{"role":"user","content":[{"type":"text","text":"my card: 4111-1111-1111-1111\n\"thanks\""},{"type":"image_url","image_url":{"url":"x"}}]},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"email\":\"bob@example.com\"}"}}]}],"temperature":0.2}"#
        let (out, result) = Self.rewrite(body, .openAIChatRequest)
        let expected = #"{ "model":"gpt-4o",  "messages":[{"role":"system","content":"be nice"},{"role":"user","content":[{"type":"text","text":"my card: [REDACTED:CREDIT_CARD]\n\"thanks\""},{"type":"image_url","image_url":{"url":"x"}}]},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"email\":\"[REDACTED:EMAIL]\"}"}}]}],"temperature":0.2}"#
        #expect(out == expected)
        #expect(result.shifted(0..<1) == 0..<1)
        #expect(result.findings.count == 2)
    }

    @Test func unicodeEscapesAndSurrogatePairsAreDecoded() {
        // "\u0034" is "4"; the emoji is a surrogate pair; both survive the round trip.
        let body = #"{"model":"m","messages":[{"role":"user","content":"\ud83d\ude00 card \u0034111111111111111 \u00e9"}]}"#
        let (out, _) = Self.rewrite(body, .openAIChatRequest)
        #expect(out == #"{"model":"m","messages":[{"role":"user","content":"😀 card [REDACTED:CREDIT_CARD] é"}]}"#)
    }

    @Test func anthropicSystemBlocksAndToolResults() {
        let body = #"{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"ip 10.1.2.3"}]},{"type":"text","text":"fine"}]}],"model":"claude","system":[{"type":"text","text":"ssn 123-45-6789"}]}"#
        let (out, result) = Self.rewrite(body, .anthropicMessagesRequest)
        #expect(out == #"{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"ip [REDACTED:IP_ADDRESS]"}]},{"type":"text","text":"fine"}]}],"model":"claude","system":[{"type":"text","text":"ssn [REDACTED:US_SSN]"}]}"#)
        // The model value moved by the first replacement's growth.
        let modelStart = Array(body.utf8).firstIndex(of: UInt8(ascii: "c"))!
        let shifted = result.shifted(modelStart)
        #expect(Array(out!.utf8)[shifted] == UInt8(ascii: "c"))
    }

    @Test func embeddingsInputStringAndArray() {
        #expect(Self.rewrite(#"{"model":"e","input":"mail x@y.org"}"#, .openAIEmbeddingsRequest).0 == #"{"model":"e","input":"mail [REDACTED:EMAIL]"}"#)
        #expect(Self.rewrite(#"{"model":"e","input":["a","x@y.org",[1,2]]}"#, .openAIEmbeddingsRequest).0 == #"{"model":"e","input":["a","[REDACTED:EMAIL]",[1,2]]}"#)
    }

    @Test func responsesAndCleanBodies() {
        #expect(Self.rewrite(#"{"choices":[{"index":0,"message":{"role":"assistant","content":"call +14155552671"}}]}"#, .openAIChatResponse).0
            == #"{"choices":[{"index":0,"message":{"role":"assistant","content":"call [REDACTED:PHONE]"}}]}"#)
        #expect(Self.rewrite(#"{"content":[{"type":"text","text":"key AKIAIOSFODNN7EXAMPLE"}]}"#, .anthropicMessagesResponse).0
            == #"{"content":[{"type":"text","text":"key [REDACTED:AWS_ACCESS_KEY]"}]}"#)
        let (clean, result) = Self.rewrite(#"{"model":"m","messages":[{"role":"user","content":"hello"}]}"#, .openAIChatRequest)
        #expect(clean == nil)
        #expect(result.verdict == .allow)
    }

    @Test func toolOutputIsMarkedAsDocuments() {
        let openAI = #"{"messages":[{"role":"user","content":"sum up"},{"role":"tool","tool_call_id":"t","content":"from tool"}]}"#
        let anthropic = #"{"messages":[{"role":"user","content":[{"type":"text","text":"sum up"},{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"from tool"}]}]}]}"#
        for (json, document) in [(openAI, GuardrailDocument.openAIChatRequest), (anthropic, .anthropicMessagesRequest)] {
            let fields = Array(json.utf8).withUnsafeBytes { raw in
                document.classifiedTextFields(in: raw).map { (JSONScanner.decodeString(raw, $0.range) ?? "", $0.isToolOutput) }
            }
            #expect(fields.map(\.0) == ["sum up", "from tool"])
            #expect(fields.map(\.1) == [false, true])
        }
    }
}
