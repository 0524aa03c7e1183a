import FuzzSupport
import Guardrails
import TollgateCore

/// The guardrail engine over hostile text: detectors, redaction, the streaming hold-back
/// scanner and the JSON body rewriter. The selector's low two bits pick the part:
///
/// - 0: `GuardrailEngine.scan` with every check; findings lie in the text, redaction keeps
///   every byte outside the merged spans and replaces each span by its label, and a second
///   scan of the redacted text never finds a redacted span's text again;
/// - 1: `StreamGuard` fed in the chunking's pieces releases exactly what one whole scan
///   redacts (for valid UTF-8, which is what a decoded stream carries);
/// - 2, 3: `GuardrailJSONRewriter` on the payload as a request/response body of the
///   document the next bits pick: a rewritten body is valid JSON whenever the input was.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGuardrails(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    switch input.selector & 3 {
    case 0: scanAndRedact(input.payload)
    case 1: stream(input)
    default: rewrite(input.payload, document: documents[Int(input.selector >> 2) % documents.count])
    }
    return 0
}

let redactAll = GuardrailEngine(policies: [GuardrailPolicy(name: "fuzz", checks: [
    GuardrailCheck(name: "keywords", kind: .keywords(KeywordMatcher(strings: ["project falcon", "ignore all", "secret sauce"]), wholeWord: true), action: .redact),
    GuardrailCheck(name: "pii", kind: .pii(PIIDetector.allCases), action: .redact),
    GuardrailCheck(name: "injection", kind: .injection(GuardrailPolicy.sharedInjectionDetector), action: .redact),
    GuardrailCheck(name: "regex", kind: .regex([try! CustomRegexRule(name: "ticket", pattern: #"TCK-[0-9]{6}"#)]), action: .redact),
])])

/// Bounded-match checks only, so the stream window covers every match.
let streamEngine = GuardrailEngine(policies: [GuardrailPolicy(name: "fuzz", checks: [
    GuardrailCheck(name: "keywords", kind: .keywords(KeywordMatcher(strings: ["project falcon", "secret sauce"]), wholeWord: false), action: .redact),
    GuardrailCheck(name: "pii", kind: .pii([.creditCard, .email, .usSSN, .awsAccessKey, .ipAddress, .phone, .iban]), action: .redact),
])])

let documents: [GuardrailDocument] = [.openAIChatRequest, .openAIEmbeddingsRequest, .anthropicMessagesRequest,
                                      .openAIChatResponse, .anthropicMessagesResponse]

func scanAndRedact(_ text: [UInt8]) {
    let result = redactAll.scan(text, direction: .prompt)
    for f in result.findings {
        fuzzCheck(f.range.lowerBound >= 0 && f.range.upperBound <= text.count && !f.range.isEmpty, "finding \(f.range) outside 0..<\(text.count)")
    }
    guard let redacted = result.redacted else {
        fuzzCheck(result.findings.allSatisfy { $0.action != .redact }, "redact findings but no redacted text")
        return
    }
    let spans = Redactor.merge(result.findings.filter { $0.action == .redact }.map { Redactor.Span(range: $0.range, type: $0.type) })
    var expected: [UInt8] = []
    var cursor = 0
    for s in spans {
        fuzzCheck(s.range.lowerBound >= cursor && s.range.upperBound <= text.count, "merged spans overlap or leave the text")
        expected += text[cursor..<s.range.lowerBound]
        expected += Redactor.label(s.type)
        cursor = s.range.upperBound
    }
    expected += text[cursor...]
    fuzzCheck(redacted == expected, "redaction changed bytes outside the findings")
    // What was redacted is not found again in the output (long spans only: a short one,
    // e.g. a keyword, may legitimately occur elsewhere unmatched).
    let again = redactAll.scan(redacted, direction: .prompt)
    for f in again.findings {
        let found = Array(redacted[f.range])
        fuzzCheck(!spans.contains { $0.range.count >= 12 && Array(text[$0.range]) == found },
                  "a redacted span survives in the output: \(String(decoding: found, as: UTF8.self).debugDescription)")
    }
}

func stream(_ input: FuzzInput) {
    // A decoded stream carries valid UTF-8: repair the fuzzer's bytes the way decoding would.
    let text = Array(String(decoding: input.payload, as: UTF8.self).utf8)
    var guardian = StreamGuard(engine: streamEngine)
    var out: [UInt8] = []
    var start = 0
    for cut in input.cuts + [text.count] where cut <= text.count && cut >= start {
        switch guardian.feed(Array(text[start..<cut])) {
        case .release(let t, _): out += t
        case .block: fuzzCheck(false, "a redact-only engine blocked")
        }
        start = cut
    }
    if case .release(let t, _) = guardian.finish() { out += t }
    let whole = streamEngine.scan(text, direction: .response)
    fuzzCheck(out == (whole.redacted ?? text), "the stream released other text than one whole scan")
}

func rewrite(_ body: [UInt8], document: GuardrailDocument) {
    let valid = isValidJSON(body)
    let result = GuardrailJSONRewriter.scan(body, document: document, engine: redactAll, direction: .prompt)
    var last = 0
    for r in result.replacements {
        fuzzCheck(r.range.lowerBound >= last && r.range.upperBound <= body.count, "replacements unsorted or outside the body")
        last = r.range.upperBound
    }
    guard let out = result.body else { return }
    fuzzCheck(!valid || isValidJSON(out), "rewriting a valid body made it invalid JSON: \(String(decoding: out, as: UTF8.self))")
    body.withUnsafeBytes { raw in
        let fields = document.textFields(in: raw)
        for f in fields { fuzzCheck(f.lowerBound >= 0 && f.upperBound <= body.count && f.count >= 2, "text field \(f) outside the body") }
    }
}
