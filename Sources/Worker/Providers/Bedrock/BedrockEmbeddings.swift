import Config
import NIOHTTP1
import TollgateCore

/// OpenAI embeddings on Bedrock through `InvokeModel` (`POST /model/{id}/invoke`), in the
/// model family's own body: Cohere Embed (`cohere.embed-*`) takes a batch of `texts`; Amazon
/// Titan Text Embeddings takes one `inputText` per call, so a Titan request with several
/// inputs is refused with a 400 rather than silently sending the first. The token count comes
/// from Titan's `inputTextTokenCount` or Bedrock's `x-amzn-bedrock-input-token-count` header.
enum BedrockEmbeddings {
    enum Family { case cohere, titan }

    static func family(_ modelID: String) -> Family {
        // Cross-region inference profiles prefix the model id ("us.cohere.embed-…").
        modelID.contains("cohere.embed") ? .cohere : .titan
    }

    static func body(_ input: EmbeddingsInput, modelID: String) -> Result<[UInt8], GatewayError> {
        var b = JSONBuilder()
        b.beginObject()
        switch family(modelID) {
        case .cohere:
            if input.dimensions != nil {
                return .failure(.badRequest("dimensions is not supported by Cohere Embed on Bedrock; remove it.",
                                            code: "unsupported_parameter", param: "dimensions"))
            }
            b.key("texts")
            b.beginArray()
            for text in input.texts { b.string(text) }
            b.endArray()
            b.key("input_type")
            b.string("search_document")
        case .titan:
            guard input.texts.count == 1 else {
                return .failure(.badRequest("input: Amazon Titan embeddings on Bedrock take one text per request; send \(input.texts.count) requests.",
                                            code: "unsupported_parameter", param: "input"))
            }
            b.key("inputText")
            b.string(input.texts[0])
            if let d = input.dimensions {
                b.key("dimensions")
                b.int(d)
            }
        }
        b.endObject()
        return .success(b.bytes)
    }

    static func extract(modelID: String) -> EmbeddingsTranslator.Extract {
        let family = family(modelID)
        return { object, headers in
            let headerCount = headers.first(name: "x-amzn-bedrock-input-token-count").flatMap { Int($0) }
            switch family {
            case .cohere:
                guard let span = object["embeddings"], let list = JSONMembers.array(object.raw, span) else { return nil }
                var vectors: [[Double]] = []
                for e in list {
                    guard let v = EmbeddingsTranslator.doubles(object.raw, JSONSpan(e)) else { return nil }
                    vectors.append(v)
                }
                return (vectors, headerCount)
            case .titan:
                guard let v = EmbeddingsTranslator.doubles(object.raw, object["embedding"]) else { return nil }
                return ([v], object.count("inputTextTokenCount") ?? headerCount)
            }
        }
    }
}
