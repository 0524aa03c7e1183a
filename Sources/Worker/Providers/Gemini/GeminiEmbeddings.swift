import Config
import Foundation
import TollgateCore

/// OpenAI embeddings on Google's models. AI Studio: `POST /v1beta/models/{m}:batchEmbedContents`
/// with one `EmbedContentRequest` per input (`{"embeddings":[{"values":[…]}]}` back, no token
/// count, so usage is estimated). Vertex AI: `POST …/publishers/google/models/{m}:predict` with
/// one instance per input (`predictions[i].embeddings.values`, and
/// `statistics.token_count` per input, summed for usage). `dimensions` maps to
/// `outputDimensionality` in both.
enum GeminiEmbeddings {
    static func body(_ input: EmbeddingsInput, upstreamModel: String, vertex: Bool) -> Result<[UInt8], GatewayError> {
        let object: [String: Any]
        if vertex {
            var o: [String: Any] = ["instances": input.texts.map { ["content": $0] }]
            if let d = input.dimensions { o["parameters"] = ["outputDimensionality": d] }
            object = o
        } else {
            object = ["requests": input.texts.map { text -> [String: Any] in
                var r: [String: Any] = ["model": "models/" + upstreamModel, "content": ["parts": [["text": text]]]]
                if let d = input.dimensions { r["outputDimensionality"] = d }
                return r
            }]
        }
        return TranslatedBody.encode(object, providerKind: vertex ? "vertex" : "gemini")
    }

    static func extract(vertex: Bool) -> EmbeddingsTranslator.Extract {
        { body, _ in
            guard let object = body as? [String: Any] else { return nil }
            if vertex {
                guard let predictions = object["predictions"] as? [[String: Any]] else { return nil }
                var vectors: [[Double]] = []
                var tokens = 0
                var counted = true
                for p in predictions {
                    let e = p["embeddings"] as? [String: Any] ?? [:]
                    guard let v = EmbeddingsTranslator.doubles(e["values"]) else { return nil }
                    vectors.append(v)
                    if let n = Usage.count((e["statistics"] as? [String: Any])?["token_count"]) { tokens = Usage.sum(tokens, n) } else { counted = false }
                }
                return (vectors, counted ? tokens : nil)
            }
            guard let list = object["embeddings"] as? [[String: Any]] else { return nil }
            var vectors: [[Double]] = []
            for e in list {
                guard let v = EmbeddingsTranslator.doubles(e["values"]) else { return nil }
                vectors.append(v)
            }
            return (vectors, nil)
        }
    }
}
