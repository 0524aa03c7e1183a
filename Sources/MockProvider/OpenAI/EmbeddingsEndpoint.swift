import NIOCore
import NIOHTTP1

/// `POST /v1/embeddings` (and Azure OpenAI's `…/deployments/{d}/embeddings`): one
/// deterministic unit vector per input, as floats or base64, and the usage of the inputs.
enum EmbeddingsEndpoint {
    static func reply(to request: MockRequest, defaultModel: String? = nil) -> MockReply {
        request.body.withUnsafeReadableBytes { raw in
            let parsed: EmbeddingsRequest
            do throws(OpenAIError) {
                parsed = try EmbeddingsRequest.parse(JSONView(bytes: raw), defaultModel: defaultModel)
            } catch {
                return error.reply(.badRequest)
            }
            var reply = reply(to: parsed, headers: request.head.headers)
            reply.requestedModel = parsed.model
            return reply
        }
    }

    private static func reply(to request: EmbeddingsRequest, headers: HTTPHeaders) -> MockReply {
        let controls: MockControls
        let model: String
        do throws(MockControlError) {
            (controls, model) = try MockControls.parse(model: request.model, headers: headers)
        } catch {
            return OpenAIError.invalidControl(error).reply(.badRequest)
        }
        if let fault = OpenAIFaults.reply(controls) { return fault.applying(controls) }
        return MockReply.json(.ok, body(request, model: model)).applying(controls)
    }

    /// `{"object":"list","data":[{"object":"embedding","index":i,"embedding":…}…],"model","usage"}`.
    static func body(_ request: EmbeddingsRequest, model: String) -> ByteBuffer {
        let perVector = request.base64 ? request.dimensions * 4 * 4 / 3 + 8 : request.dimensions * 12
        var b = ByteBufferAllocator().buffer(capacity: 160 + request.inputs.count * (perVector + 48))
        b.writeStaticString("{\"object\":\"list\",\"data\":[")
        var tokens = 0
        for (i, input) in request.inputs.enumerated() {
            if i > 0 { b.writeStaticString(",") }
            b.writeStaticString("{\"object\":\"embedding\",\"index\":")
            b.writeJSONInt(i)
            b.writeStaticString(",\"embedding\":")
            let vector = EmbeddingVector.vector(seed: input.seed, dimensions: request.dimensions)
            if request.base64 {
                EmbeddingVector.writeBase64(vector, into: &b)
            } else {
                EmbeddingVector.writeFloats(vector, into: &b)
            }
            b.writeStaticString("}")
            tokens += input.tokens
        }
        b.writeStaticString("],\"model\":")
        b.writeJSONString(model)
        b.writeStaticString(",\"usage\":{\"prompt_tokens\":")
        b.writeJSONInt(tokens)
        b.writeStaticString(",\"total_tokens\":")
        b.writeJSONInt(tokens)
        b.writeStaticString("}}")
        return b
    }
}
