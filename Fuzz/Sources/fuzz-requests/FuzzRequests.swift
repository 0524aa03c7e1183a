import FuzzSupport
import TollgateCore
import WAF
import Worker

/// Client request bodies on every front (selector % 4: chat completions, embeddings, Anthropic
/// messages, count_tokens) through `RequestParsingFilter` and then every provider adapter's
/// request translation, as the proxy runs them. A refusal is a 4xx in the front's error format
/// (valid JSON); an accepted body's model range decodes to the model; every upstream body is
/// a valid JSON object whose `model`, where the provider takes one in the body, is the
/// backend's; every upstream path is absolute. The WAF's copy of the body (prompt strings
/// blanked) is valid JSON whenever the body is, never longer, and has nothing left to blank.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequests(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let fronts = WorkerFuzzing.Front.allCases
    let front = fronts[Int(input.selector) % fronts.count]
    let body = input.payload
    body.withUnsafeBytes { raw in
        guard let blanked = WAFPromptBlanker.blank(raw) else { return }
        fuzzCheck(blanked.count <= raw.count, "the WAF copy is longer than the body")
        if (try? JSONScanner.validate(raw)) != nil {
            fuzzCheck(isValidJSON(blanked), "the WAF copy of valid JSON is not JSON: \(String(decoding: blanked, as: UTF8.self))")
        }
        fuzzCheck(blanked.withUnsafeBytes { WAFPromptBlanker.blank($0) } == nil, "the WAF copy still has prompt text to blank")
    }
    let parsed: WorkerFuzzing.ParsedRequest
    switch WorkerFuzzing.parse(body, front: front) {
    case .failure(let refusal):
        fuzzCheck((400..<500).contains(refusal.status), "request parsing answered \(refusal.status)")
        fuzzCheck(isValidJSON(refusal.body), "a refusal is not JSON: \(String(decoding: refusal.body, as: UTF8.self))")
        return 0
    case .success(let p):
        parsed = p
    }
    let model = body.withUnsafeBytes { JSONScanner.decodeString($0, parsed.modelRange) }
    fuzzCheck(model == parsed.model, "the model range does not decode to the model")
    for provider in WorkerFuzzing.Provider.allCases {
        switch WorkerFuzzing.upstreamRequest(body, front: front, parsed: parsed, provider: provider, anthropicBeta: "tools-2024-04-04") {
        case .failure(let refusal):
            fuzzCheck((400..<600).contains(refusal.status), "\(provider) answered \(refusal.status)")
            fuzzCheck(isValidJSON(refusal.body), "\(provider): a refusal is not JSON: \(String(decoding: refusal.body, as: UTF8.self))")
        case .success(let upstream):
            fuzzCheck(upstream.path.hasPrefix("/"), "\(provider): upstream path \(upstream.path) is not absolute")
            guard let index = try? JSONScanner.scanObject(upstream.body) else {
                fuzzCheck(false, "\(provider) on \(front): the upstream body is not a JSON object: \(String(decoding: upstream.body, as: UTF8.self))")
                return 0
            }
            if let m = upstream.body.withUnsafeBytes({ index.string("model", in: $0) }) {
                fuzzCheck(m == "fuzz-model", "\(provider) on \(front): the upstream body names model \(m.debugDescription)")
            }
        }
    }
    return 0
}
