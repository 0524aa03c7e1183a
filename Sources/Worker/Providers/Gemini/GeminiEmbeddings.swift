import Config
import TollgateCore

/// OpenAI embeddings on Google's models. AI Studio: `POST /v1beta/models/{m}:batchEmbedContents`
/// with one `EmbedContentRequest` per input (`{"embeddings":[{"values":[…]}]}` back, no token
/// count, so usage is estimated). Vertex AI: `POST …/publishers/google/models/{m}:predict` with
/// one instance per input (`predictions[i].embeddings.values`, and
/// `statistics.token_count` per input, summed for usage). `dimensions` maps to
/// `outputDimensionality` in both.
enum GeminiEmbeddings {
    static func body(_ input: EmbeddingsInput, upstreamModel: String, vertex: Bool) -> Result<[UInt8], GatewayError> {
        var b = JSONBuilder()
        b.beginObject()
        if vertex {
            b.key("instances")
            b.beginArray()
            for text in input.texts {
                b.beginObject()
                b.key("content")
                b.string(text)
                b.endObject()
            }
            b.endArray()
            if let d = input.dimensions {
                b.key("parameters")
                b.beginObject()
                b.key("outputDimensionality")
                b.int(d)
                b.endObject()
            }
        } else {
            b.key("requests")
            b.beginArray()
            for text in input.texts {
                b.beginObject()
                b.key("model")
                b.string("models/" + upstreamModel)
                b.key("content")
                b.beginObject()
                b.key("parts")
                b.beginArray()
                b.beginObject()
                b.key("text")
                b.string(text)
                b.endObject()
                b.endArray()
                b.endObject()
                if let d = input.dimensions {
                    b.key("outputDimensionality")
                    b.int(d)
                }
                b.endObject()
            }
            b.endArray()
        }
        b.endObject()
        return .success(b.bytes)
    }

    static func extract(vertex: Bool) -> EmbeddingsTranslator.Extract {
        { object, _ in
            if vertex {
                guard let predictions = object.objects("predictions") else { return nil }
                var vectors: [[Double]] = []
                var tokens = 0
                var counted = true
                for p in predictions {
                    let e = p.object("embeddings")
                    guard let e, let v = EmbeddingsTranslator.doubles(object.raw, e["values"]) else { return nil }
                    vectors.append(v)
                    if let n = e.object("statistics")?.count("token_count") { tokens = Usage.sum(tokens, n) } else { counted = false }
                }
                return (vectors, counted ? tokens : nil)
            }
            guard let list = object.objects("embeddings") else { return nil }
            var vectors: [[Double]] = []
            for e in list {
                guard let v = EmbeddingsTranslator.doubles(object.raw, e["values"]) else { return nil }
                vectors.append(v)
            }
            return (vectors, nil)
        }
    }
}
