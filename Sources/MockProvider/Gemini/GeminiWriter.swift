import NIOCore

/// Gemini `GenerateContentResponse` bodies, whole and streamed.
struct GeminiWriter {
    var model: String
    var responseID: String
    var promptTokens: Int
    var candidatesTokens: Int
    /// `usage_raw`: a JSON number literal written for every count instead.
    var usageRaw: String? = nil

    /// The whole reply: one candidate with the text (and the function call), finish reason, usage.
    func response(tokens: [String], tool: String?, finish: String) -> ByteBuffer {
        var b = ByteBufferAllocator().buffer(capacity: 384 + tokens.count * 8)
        write(&b, text: tokens.isEmpty ? nil : tokens, tool: tool, finish: finish, usage: true)
        return b
    }

    /// One response per token, then one with the function call (if any), finish reason and
    /// usage: as SSE events, or as the elements of one JSON array.
    func stream(tokens: [String], tool: String?, finish: String, sse: Bool) -> MockEventBody {
        var events = MockEventBody(capacity: 256 * (tokens.count + 2))
        var first = true
        func event(_ write: (inout ByteBuffer) -> Void) {
            let isFirst = first
            first = false
            events.append { b in
                if sse {
                    b.writeStaticString("data: ")
                } else {
                    b.writeStaticString(isFirst ? "[" : ",\r\n")
                }
                write(&b)
                if sse { b.writeStaticString("\r\n\r\n") }
            }
        }
        for token in tokens {
            event { write(&$0, text: [token], tool: nil, finish: nil, usage: false) }
        }
        event { write(&$0, text: nil, tool: tool, finish: finish, usage: true) }
        if !sse { events.append { $0.writeStaticString("]") } }
        return events
    }

    private func write(_ b: inout ByteBuffer, text: [String]?, tool: String?, finish: String?, usage: Bool) {
        b.writeStaticString("{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[")
        if let text {
            b.writeStaticString("{\"text\":\"")
            for token in text { b.writeJSONEscaped(token) }
            b.writeStaticString("\"}")
        }
        if let tool {
            if text != nil { b.writeStaticString(",") }
            b.writeStaticString("{\"functionCall\":{\"name\":")
            b.writeJSONString(tool)
            b.writeStaticString(",\"args\":")
            b.writeString(MockToolCall.arguments)
            b.writeStaticString("}}")
        }
        b.writeStaticString("]},\"index\":0")
        if let finish {
            b.writeStaticString(",\"finishReason\":")
            b.writeJSONString(finish)
        }
        b.writeStaticString("}]")
        if usage {
            b.writeStaticString(",\"usageMetadata\":{\"promptTokenCount\":")
            b.writeJSONCount(promptTokens, raw: usageRaw)
            b.writeStaticString(",\"candidatesTokenCount\":")
            b.writeJSONCount(candidatesTokens, raw: usageRaw)
            b.writeStaticString(",\"totalTokenCount\":")
            b.writeJSONCount(promptTokens + candidatesTokens, raw: usageRaw)
            b.writeStaticString("}")
        }
        b.writeStaticString(",\"modelVersion\":")
        b.writeJSONString(model)
        b.writeStaticString(",\"responseId\":")
        b.writeJSONString(responseID)
        b.writeStaticString("}")
    }
}
