import Foundation
import Testing
import TollgateCore
@testable import Worker

/// Anthropic `document` blocks sent to an OpenAI-compatible upstream: text documents become
/// text (title and context first); what has no text equivalent is refused with a 400 naming
/// the block.
@Suite struct AnthropicDocumentTranslationTests {
    private func translate(_ blocks: String) -> Result<[String: Any], GatewayError> {
        TranslationHarness.anthropicFront(#"{"model":"c","max_tokens":10,"messages":[{"role":"user","content":[\#(blocks)]}]}"#, upstreamModel: "gpt-x")
    }

    private func userContent(_ out: [String: Any]) -> Any? {
        (out["messages"] as? [[String: Any]])?.last?["content"]
    }

    @Test func textDocumentsBecomeText() throws {
        let plain = Data("from base64 file".utf8).base64EncodedString()
        let cases: [(String, String)] = [
            (#"{"type":"document","source":{"type":"text","media_type":"text/plain","data":"The contract says X."}}"#, "The contract says X."),
            (#"{"type":"document","title":"Contract","context":"signed 2024","source":{"type":"text","media_type":"text/plain","data":"Body."}}"#,
             "Contract\n\nsigned 2024\n\nBody."),
            (#"{"type":"document","source":{"type":"content","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}}"#, "a\n\nb"),
            (#"{"type":"document","source":{"type":"base64","media_type":"text/plain","data":"\#(plain)"}}"#, "from base64 file"),
        ]
        for (block, text) in cases {
            guard case .success(let out) = translate(block) else {
                Issue.record("\(block) should translate")
                continue
            }
            #expect(userContent(out) as? String == text)
        }
        guard case .success(let mixed) = translate(#"{"type":"text","text":"Summarise:"},{"type":"document","source":{"type":"text","media_type":"text/plain","data":"Doc."}}"#) else {
            Issue.record("mixed should translate")
            return
        }
        #expect(userContent(mixed) as? String == "Summarise:\nDoc.")
    }

    @Test func untranslatableDocumentsAreRefusedClearly() {
        let cases = [
            #"{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="}}"#,
            #"{"type":"document","source":{"type":"url","url":"https://example.com/a.pdf"}}"#,
            #"{"type":"document","source":{"type":"content","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAA="}}]}}"#,
        ]
        for block in cases {
            guard case .failure(let e) = translate(block) else {
                Issue.record("\(block) should be refused")
                continue
            }
            #expect(e.status == 400 && e.code == "unsupported_value" && e.param == "messages[0].content[0]")
            #expect(e.message.contains("document"))
        }
    }
}
