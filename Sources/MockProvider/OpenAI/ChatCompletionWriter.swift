import NIOCore

/// OpenAI chat completion bodies, written field for field in the order of the API
/// reference's examples: `CreateChatCompletionResponse` (the `chat.completion` object) and
/// `CreateChatCompletionStreamResponse` (`chat.completion.chunk` events), required-but-null
/// members (`refusal`, `logprobs`) included.
struct ChatCompletionWriter {
    var id: String
    var created: Int
    var model: String

    // The mock serves every request at the `default` tier from one "backend configuration",
    // `system_fingerprint` `fp_tollgate_mock`; both are written as literals below.

    // MARK: chat.completion

    /// A text reply: the concatenation of `tokens`.
    func completion(tokens: [String], finishReason: String, usage: ChatUsage) -> ByteBuffer {
        var b = ByteBufferAllocator().buffer(capacity: 640 + tokens.count * 8)
        writeCompletionPrefix(&b)
        b.writeStaticString("\"content\":\"")
        for token in tokens { b.writeJSONEscaped(token) }
        b.writeStaticString("\",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":")
        b.writeJSONString(finishReason)
        writeCompletionSuffix(&b, usage: usage)
        return b
    }

    /// A reply that calls `call` instead of answering.
    func toolCallCompletion(_ call: MockToolCall, usage: ChatUsage) -> ByteBuffer {
        var b = ByteBufferAllocator().buffer(capacity: 768)
        writeCompletionPrefix(&b)
        b.writeStaticString("\"content\":null,\"tool_calls\":[{\"id\":")
        b.writeJSONString(call.id)
        b.writeStaticString(",\"type\":\"function\",\"function\":{\"name\":")
        b.writeJSONString(call.name)
        b.writeStaticString(",\"arguments\":")
        b.writeJSONString(MockToolCall.arguments)
        b.writeStaticString("}}],\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":\"tool_calls\"")
        writeCompletionSuffix(&b, usage: usage)
        return b
    }

    private func writeCompletionPrefix(_ b: inout ByteBuffer) {
        b.writeStaticString("{\"id\":")
        b.writeJSONString(id)
        b.writeStaticString(",\"object\":\"chat.completion\",\"created\":")
        b.writeJSONInt(created)
        b.writeStaticString(",\"model\":")
        b.writeJSONString(model)
        b.writeStaticString(",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",")
    }

    private func writeCompletionSuffix(_ b: inout ByteBuffer, usage: ChatUsage) {
        b.writeStaticString("}],\"usage\":")
        usage.write(into: &b)
        b.writeStaticString(",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_tollgate_mock\"}")
    }

    // MARK: chat.completion.chunk

    /// How a stream is framed: usage chunk or not, obfuscation padding or not.
    struct StreamOptions: Equatable {
        var includeUsage: Bool
        var includeObfuscation: Bool
    }

    /// A streamed text reply: the role chunk (`"role":"assistant","content":"","refusal":null`),
    /// one chunk per token, the finish chunk (empty delta), the usage chunk (`"choices":[]`)
    /// when asked for, then `[DONE]`.
    func stream(tokens: [String], finishReason: String, usage: ChatUsage, options: StreamOptions) -> MockEventBody {
        var events = MockEventBody(capacity: 320 * (tokens.count + 4))
        let prefix = chunkPrefix()
        appendChunk(&events, prefix, options, padFor: 0) { $0.writeStaticString("{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}") }
        for token in tokens {
            appendChunk(&events, prefix, options, padFor: token.utf8.count) { b in
                b.writeStaticString("{\"content\":")
                b.writeJSONString(token)
                b.writeStaticString("}")
            }
        }
        appendChunk(&events, prefix, options, finishReason: finishReason, padFor: 0) { $0.writeStaticString("{}") }
        appendTail(&events, prefix, options, usage: usage)
        return events
    }

    /// A streamed tool call: the role chunk carrying the call's id and name, one chunk per
    /// argument fragment, the finish chunk (`tool_calls`), the usage chunk, `[DONE]`.
    func toolCallStream(_ call: MockToolCall, usage: ChatUsage, options: StreamOptions) -> MockEventBody {
        var events = MockEventBody(capacity: 2048)
        let prefix = chunkPrefix()
        appendChunk(&events, prefix, options, padFor: 0) { b in
            b.writeStaticString("{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":")
            b.writeJSONString(call.id)
            b.writeStaticString(",\"type\":\"function\",\"function\":{\"name\":")
            b.writeJSONString(call.name)
            b.writeStaticString(",\"arguments\":\"\"}}],\"refusal\":null}")
        }
        for fragment in MockToolCall.argumentFragments {
            appendChunk(&events, prefix, options, padFor: fragment.utf8.count) { b in
                b.writeStaticString("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":")
                b.writeJSONString(fragment)
                b.writeStaticString("}}]}")
            }
        }
        appendChunk(&events, prefix, options, finishReason: "tool_calls", padFor: 0) { $0.writeStaticString("{}") }
        appendTail(&events, prefix, options, usage: usage)
        return events
    }

    /// `data: {"id":…,"object":"chat.completion.chunk",…,"choices":` — the same for every chunk.
    private func chunkPrefix() -> ByteBuffer {
        var b = ByteBufferAllocator().buffer(capacity: 192)
        b.writeStaticString("data: {\"id\":")
        b.writeJSONString(id)
        b.writeStaticString(",\"object\":\"chat.completion.chunk\",\"created\":")
        b.writeJSONInt(created)
        b.writeStaticString(",\"model\":")
        b.writeJSONString(model)
        b.writeStaticString(",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_tollgate_mock\",\"choices\":")
        return b
    }

    private func appendChunk(_ events: inout MockEventBody, _ prefix: ByteBuffer, _ options: StreamOptions,
                             finishReason: String? = nil, padFor contentBytes: Int, delta: (inout ByteBuffer) -> Void) {
        let seed = events.count
        events.append { b in
            b.writeImmutableBuffer(prefix)
            b.writeStaticString("[{\"index\":0,\"delta\":")
            delta(&b)
            b.writeStaticString(",\"logprobs\":null,\"finish_reason\":")
            b.writeJSONStringOrNull(finishReason)
            b.writeStaticString("}]")
            if options.includeUsage { b.writeStaticString(",\"usage\":null") }
            if options.includeObfuscation { Self.writeObfuscation(&b, contentBytes: contentBytes, seed: seed) }
            b.writeStaticString("}\n\n")
        }
    }

    /// The usage chunk (when asked for) and `[DONE]`.
    private func appendTail(_ events: inout MockEventBody, _ prefix: ByteBuffer, _ options: StreamOptions, usage: ChatUsage) {
        if options.includeUsage {
            let seed = events.count
            events.append { b in
                b.writeImmutableBuffer(prefix)
                b.writeStaticString("[],\"usage\":")
                usage.write(into: &b)
                if options.includeObfuscation { Self.writeObfuscation(&b, contentBytes: 0, seed: seed) }
                b.writeStaticString("}\n\n")
            }
        }
        events.append { $0.writeStaticString("data: [DONE]\n\n") }
    }

    private static let padAlphabet: [UInt8] = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)

    /// `"obfuscation":"…"`: OpenAI pads each chunk so its size does not give away the length of
    /// the token it carries; the mock pads the content to a multiple of 16 bytes, deterministically.
    private static func writeObfuscation(_ b: inout ByteBuffer, contentBytes: Int, seed: Int) {
        b.writeStaticString(",\"obfuscation\":\"")
        let count = 16 - contentBytes % 16
        for i in 0..<count {
            b.writeInteger(padAlphabet[(seed * 7 + i) % padAlphabet.count])
        }
        b.writeStaticString("\"")
    }
}
