import FuzzSupport
import Guardrails
import TollgateCore
import Worker

/// Upstream response bodies through the translator the proxy picks for each front × provider
/// (Anthropic, Gemini, Vertex, Bedrock, the OpenAI→Anthropic bridge and chains, the usage
/// meters, embeddings and count_tokens), optionally under response guardrails. The selector
/// picks front (bits 0-1), provider (bits 2-4, mod 6), streamed or whole (bit 5), guardrails
/// (bit 6), and an error status for whole bodies (bit 7).
///
/// Invariants: a translating (not relaying) translator emits valid JSON for a whole body and
/// SSE whose data lines are JSON for a stream; the usage does not depend on where reads split
/// the stream; the settlement (cost header, usage comment) is computed without trapping.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzResponses(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let front = WorkerFuzzing.Front.allCases[Int(input.selector & 3)]
    let providers = WorkerFuzzing.Provider.allCases
    let provider = providers[Int((input.selector >> 2) & 7) % providers.count]
    let streamed = input.selector & 0x20 != 0
    let guarded = input.selector & 0x40 != 0 && (front == .chatCompletions || front == .messages)
    let (body, parsed) = requests[front]![streamed ? 1 : 0]
    let engine = guarded ? responseGuardrails : nil
    guard let translator = WorkerFuzzing.responseTranslator(body, front: front, parsed: parsed, provider: provider, guardrails: engine) else {
        return 0
    }
    let what = "\(provider) → \(front)\(streamed ? " streamed" : "")\(guarded ? " guarded" : "")"
    let relays = translator.relaysUpstreamBytes
    if streamed {
        let contentType = provider == .bedrock ? "application/vnd.amazon.eventstream" : "text/event-stream"
        switch translator.mode(status: 200, contentType: contentType) {
        case .stream: break
        case .buffered: return whole(translator, status: 200, input.payload, relays: relays, what)
        case .passthrough: return 0
        }
        var out: [UInt8] = []
        for piece in input.pieces { out += translator.relay(piece) }
        out += translator.finish()
        if !relays { checkSSE(out, what) }
        _ = translator.settlement()
        if !guarded, input.chunking != 0xFF,
           let reference = WorkerFuzzing.responseTranslator(body, front: front, parsed: parsed, provider: provider) {
            _ = reference.mode(status: 200, contentType: contentType)
            _ = reference.relay(input.payload[...])
            _ = reference.finish()
            fuzzCheck(reference.usage.map { [$0.prompt, $0.completion, $0.cached] } == translator.usage.map { [$0.prompt, $0.completion, $0.cached] },
                      "\(what): the usage depends on the read boundaries")
        }
        return 0
    }
    let status = input.selector & 0x80 != 0 ? [400, 429, 500, 503][Int(input.chunking) & 3] : 200
    guard translator.mode(status: status, contentType: "application/json") != .passthrough else { return 0 }
    return whole(translator, status: status, input.payload, relays: relays, what)
}

func whole(_ translator: FuzzResponseTranslator, status: Int, _ body: [UInt8], relays: Bool, _ what: String) -> CInt {
    let out = translator.whole(status: status, body: body)
    if !relays {
        fuzzCheck(isValidJSON(out.body), "\(what): a translated body is not JSON: \(String(decoding: out.body, as: UTF8.self))")
    }
    _ = translator.settlement()
    return 0
}

let responseGuardrails = GuardrailEngine(policies: [GuardrailPolicy(name: "fuzz", checks: [
    GuardrailCheck(name: "pii", kind: .pii([.creditCard, .email, .usSSN, .awsAccessKey]), action: .redact),
    GuardrailCheck(name: "words", kind: .keywords(KeywordMatcher(strings: ["project falcon"]), wholeWord: true), action: .block),
])])

/// The client request each response answers, per front: not streamed, then streamed.
let requests: [WorkerFuzzing.Front: [([UInt8], WorkerFuzzing.ParsedRequest)]] = {
    func make(_ front: WorkerFuzzing.Front, _ json: String) -> ([UInt8], WorkerFuzzing.ParsedRequest) {
        let body = Array(json.utf8)
        guard case .success(let parsed) = WorkerFuzzing.parse(body, front: front) else { fatalError("seed request refused: \(json)") }
        return (body, parsed)
    }
    let embeddings = make(.embeddings, #"{"model":"m","input":["a","b"]}"#)
    let count = make(.countTokens, #"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#)
    return [
        .chatCompletions: [false, true].map {
            make(.chatCompletions, #"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":\#($0),"stream_options":{"include_usage":true}}"#)
        },
        .embeddings: [embeddings, embeddings],
        .messages: [false, true].map { make(.messages, #"{"model":"m","max_tokens":64,"messages":[{"role":"user","content":"hi"}],"stream":\#($0)}"#) },
        .countTokens: [count, count],
    ]
}()
