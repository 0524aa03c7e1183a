import Guardrails
import Testing

@Suite struct ContentSafetyTests {
    static let thresholds = ["hate": 4, "self_harm": 4, "sexual": 2, "violence": 6]

    static func analyze(_ json: String, status: Int = 200) -> ContentSafety.Verdict {
        ContentSafety.analyzeVerdict(status: status, body: Array(json.utf8), thresholds: thresholds)
    }

    @Test func eachCategoryHasItsOwnThreshold() {
        let below = #"{"blocklistsMatch":[],"categoriesAnalysis":[{"category":"Hate","severity":2},{"category":"Sexual","severity":0},{"category":"Violence","severity":4}]}"#
        #expect(Self.analyze(below) == .pass)
        #expect(Self.analyze(#"{"categoriesAnalysis":[{"category":"Hate","severity":4}]}"#) == .violation(rule: "hate"))
        #expect(Self.analyze(#"{"categoriesAnalysis":[{"category":"Sexual","severity":2}]}"#) == .violation(rule: "sexual"))
        #expect(Self.analyze(#"{"categoriesAnalysis":[{"category":"Violence","severity":4}]}"#) == .pass)
        #expect(Self.analyze(#"{"categoriesAnalysis":[{"category":"Violence","severity":6}]}"#) == .violation(rule: "violence"))
        #expect(Self.analyze(#"{"categoriesAnalysis":[{"category":"SelfHarm","severity":6}]}"#) == .violation(rule: "self_harm"))
        // A category without a threshold is not judged.
        #expect(ContentSafety.analyzeVerdict(status: 200, body: Array(#"{"categoriesAnalysis":[{"category":"Hate","severity":6}]}"#.utf8), thresholds: ["violence": 2]) == .pass)
    }

    @Test func blocklistHitsAndErrors() {
        #expect(Self.analyze(#"{"blocklistsMatch":[{"blocklistName":"corp","blocklistItemId":"1","blocklistItemText":"x"}],"categoriesAnalysis":[]}"#)
            == .violation(rule: "blocklist:corp"))
        #expect(Self.analyze("{}", status: 500) == .error("text:analyze answered HTTP 500"))
        #expect(Self.analyze("not json") == .error("text:analyze answered with invalid JSON"))
        #expect(Self.analyze("{}") == .error("text:analyze answer has no categoriesAnalysis"))
    }

    @Test func shieldPromptDirectAndIndirectAttacks() {
        #expect(ContentSafety.shieldVerdict(status: 200, body: Array(#"{"userPromptAnalysis":{"attackDetected":false},"documentsAnalysis":[]}"#.utf8)) == .pass)
        #expect(ContentSafety.shieldVerdict(status: 200, body: Array(#"{"userPromptAnalysis":{"attackDetected":true}}"#.utf8)) == .violation(rule: "prompt_attack"))
        #expect(ContentSafety.shieldVerdict(status: 200, body: Array(#"{"userPromptAnalysis":{"attackDetected":false},"documentsAnalysis":[{"attackDetected":true}]}"#.utf8))
            == .violation(rule: "document_attack"))
        #expect(ContentSafety.shieldVerdict(status: 429, body: []) == .error("text:shieldPrompt answered HTTP 429"))
    }

    @Test func longTextsSplitAtTheCharacterLimit() {
        let text = String(repeating: "é", count: 25_000)
        let pieces = ContentSafety.split(text)
        #expect(pieces.map(\.count) == [10_000, 10_000, 5_000])
        #expect(pieces.joined() == text)
        #expect(ContentSafety.split("short") == ["short"])
        let body = String(decoding: ContentSafety.analyzeBody("a \"b\"", categories: ["hate", "violence"], blocklists: ["corp"]), as: UTF8.self)
        #expect(body == #"{"text":"a \"b\"","categories":["Hate","Violence"],"blocklistNames":["corp"],"haltOnBlocklistHit":false,"outputType":"FourSeverityLevels"}"#)
        #expect(String(decoding: ContentSafety.shieldPromptBody(userPrompt: "p", documents: ["d"]), as: UTF8.self) == #"{"userPrompt":"p","documents":["d"]}"#)
    }

    @Test func combineVerdicts() {
        #expect(ContentSafety.combine([.pass, .error("x"), .violation(rule: "hate")]) == .violation(rule: "hate"))
        #expect(ContentSafety.combine([.pass, .error("x")]) == .error("x"))
        #expect(ContentSafety.combine([.pass, .pass]) == .pass)
    }
}
