import Foundation
import TollgateCore

/// An OpenAI `/v1/embeddings` request, read for providers whose embedding APIs take plain
/// texts (Gemini, Vertex AI, Bedrock). Token-id inputs (`[int]`, `[[int]]`) are refused with a
/// 400: they are token ids of OpenAI's tokenizer and mean nothing to another provider.
struct EmbeddingsInput: Equatable {
    var texts: [String]
    var dimensions: Int?
    /// `encoding_format: "base64"` (the OpenAI Python SDK's default): little-endian float32s.
    var base64: Bool

    static let accepted: Set<String> = ["model", "input", "dimensions", "encoding_format", "user"]

    static func parse(_ body: [UInt8], providerKind: String) -> Result<EmbeddingsInput, GatewayError> {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            return .failure(.badRequest("The request body is not a JSON object.", code: "invalid_json"))
        }
        for (key, value) in object where !accepted.contains(key) && !(value is NSNull) {
            return .failure(.badRequest("'\(key)' cannot be translated for provider kind \(providerKind); remove it.",
                                        code: "unsupported_parameter", param: key))
        }
        var texts: [String]
        switch object["input"] {
        case let s as String:
            texts = [s]
        case let list as [Any] where !list.isEmpty:
            let strings = list.compactMap { $0 as? String }
            guard strings.count == list.count else {
                return .failure(.badRequest("input: token-id arrays cannot be sent to provider kind \(providerKind); send the text instead.",
                                            code: "unsupported_parameter", param: "input"))
            }
            texts = strings
        default:
            return .failure(.badRequest("input must be a non-empty string or array of strings.", code: "invalid_value", param: "input"))
        }
        if texts.contains(where: \.isEmpty) {
            return .failure(.badRequest("input cannot contain an empty string.", code: "invalid_value", param: "input"))
        }
        var dimensions: Int?
        if let d = object["dimensions"], !(d is NSNull) {
            guard let n = d as? Int, n > 0 else {
                return .failure(.badRequest("dimensions must be a positive integer.", code: "invalid_value", param: "dimensions"))
            }
            dimensions = n
        }
        var base64 = false
        switch object["encoding_format"] {
        case nil, is NSNull: break
        case let f as String where f == "float": break
        case let f as String where f == "base64": base64 = true
        default:
            return .failure(.badRequest("encoding_format must be 'float' or 'base64'.", code: "invalid_value", param: "encoding_format"))
        }
        return .success(EmbeddingsInput(texts: texts, dimensions: dimensions, base64: base64))
    }

    /// A token estimate for providers whose embedding responses carry no count (about four
    /// bytes of UTF-8 per token, as OpenAI's own rule of thumb for English).
    var estimatedTokens: Int {
        texts.reduce(0) { $0 + max(1, ($1.utf8.count + 3) / 4) }
    }
}
