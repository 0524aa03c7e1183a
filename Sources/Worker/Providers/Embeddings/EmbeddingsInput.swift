import TollgateCore

/// An OpenAI `/v1/embeddings` request, read for providers whose embedding APIs take plain
/// texts (Gemini, Vertex AI, Bedrock). Token-id inputs (`[int]`, `[[int]]`) are refused with a
/// 400: they are token ids of OpenAI's tokenizer and mean nothing to another provider. Read
/// with `JSONScanner`.
struct EmbeddingsInput: Equatable {
    var texts: [String]
    var dimensions: Int?
    /// `encoding_format: "base64"` (the OpenAI Python SDK's default): little-endian float32s.
    var base64: Bool

    static let accepted: Set<String> = ["model", "input", "dimensions", "encoding_format", "user"]

    static func parse(_ body: [UInt8], providerKind: String) -> Result<EmbeddingsInput, GatewayError> {
        body.withUnsafeBytes { parse($0, providerKind: providerKind) }
    }

    static func parse(_ raw: UnsafeRawBufferPointer, providerKind: String) -> Result<EmbeddingsInput, GatewayError> {
        guard let object = JSONObjectView(document: raw) else {
            return .failure(.badRequest("The request body is not a JSON object.", code: "invalid_json"))
        }
        for m in object.index.members where m.kind != .null {
            let key = JSONMembers.key(m, raw)
            guard !accepted.contains(key) else { continue }
            return .failure(.badRequest("'\(key)' cannot be translated for provider kind \(providerKind); remove it.",
                                        code: "unsupported_parameter", param: key))
        }
        var texts: [String]
        let input = object["input"]
        if let s = JSONMembers.string(raw, input) {
            texts = [s]
        } else if let input, let list = JSONMembers.array(raw, input), !list.isEmpty {
            let strings = list.compactMap { JSONMembers.string(raw, JSONSpan($0)) }
            guard strings.count == list.count else {
                return .failure(.badRequest("input: token-id arrays cannot be sent to provider kind \(providerKind); send the text instead.",
                                            code: "unsupported_parameter", param: "input"))
            }
            texts = strings
        } else {
            return .failure(.badRequest("input must be a non-empty string or array of strings.", code: "invalid_value", param: "input"))
        }
        if texts.contains(where: \.isEmpty) {
            return .failure(.badRequest("input cannot contain an empty string.", code: "invalid_value", param: "input"))
        }
        var dimensions: Int?
        if let d = object["dimensions"], d.kind != .null {
            guard let n = JSONMembers.int(raw, d), n > 0 else {
                return .failure(.badRequest("dimensions must be a positive integer.", code: "invalid_value", param: "dimensions"))
            }
            dimensions = n
        }
        var base64 = false
        if let f = object["encoding_format"], f.kind != .null {
            switch JSONMembers.string(raw, f) {
            case "float": break
            case "base64": base64 = true
            default:
                return .failure(.badRequest("encoding_format must be 'float' or 'base64'.", code: "invalid_value", param: "encoding_format"))
            }
        }
        return .success(EmbeddingsInput(texts: texts, dimensions: dimensions, base64: base64))
    }

    /// A token estimate for providers whose embedding responses carry no count (about four
    /// bytes of UTF-8 per token, as OpenAI's own rule of thumb for English).
    var estimatedTokens: Int {
        texts.reduce(0) { $0 + max(1, ($1.utf8.count + 3) / 4) }
    }
}
