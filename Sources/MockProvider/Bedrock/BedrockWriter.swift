import NIOCore
import TollgateCore

/// Bedrock Converse bodies: the JSON response and the event-stream frames of ConverseStream.
struct BedrockWriter {
    var inputTokens: Int
    var outputTokens: Int
    /// `usage_raw`: a JSON number literal written for every count instead.
    var usageRaw: String? = nil

    func converse(tokens: [String], tool: String?, stop: String) -> ByteBuffer {
        var b = ByteBufferAllocator().buffer(capacity: 384 + tokens.count * 8)
        b.writeStaticString("{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":[")
        if !tokens.isEmpty {
            b.writeStaticString("{\"text\":\"")
            for token in tokens { b.writeJSONEscaped(token) }
            b.writeStaticString("\"}")
        }
        if let tool {
            if !tokens.isEmpty { b.writeStaticString(",") }
            b.writeStaticString("{\"toolUse\":{\"toolUseId\":\"tooluse_mock1\",\"name\":")
            b.writeJSONString(tool)
            b.writeStaticString(",\"input\":")
            b.writeString(MockToolCall.arguments)
            b.writeStaticString("}}")
        }
        b.writeStaticString("]}},\"stopReason\":")
        b.writeJSONString(stop)
        b.writeStaticString(",\"usage\":")
        writeUsage(&b)
        b.writeStaticString(",\"metrics\":{\"latencyMs\":1}}")
        return b
    }

    func converseStream(tokens: [String], tool: String?, stop: String) -> MockEventBody {
        var events = MockEventBody(capacity: 160 * (tokens.count + 6))
        func frame(_ type: String, _ json: (inout ByteBuffer) -> Void) {
            var payload = ByteBuffer()
            json(&payload)
            let bytes = EventStreamDecoder.encode(headers: [(":event-type", type), (":content-type", "application/json"), (":message-type", "event")],
                                                  payload: Array(payload.readableBytesView))
            events.append { $0.writeBytes(bytes) }
        }
        frame("messageStart") { $0.writeStaticString("{\"role\":\"assistant\"}") }
        for token in tokens {
            frame("contentBlockDelta") { b in
                b.writeStaticString("{\"contentBlockIndex\":0,\"delta\":{\"text\":")
                b.writeJSONString(token)
                b.writeStaticString("}}")
            }
        }
        frame("contentBlockStop") { $0.writeStaticString("{\"contentBlockIndex\":0}") }
        if let tool {
            frame("contentBlockStart") { b in
                b.writeStaticString("{\"contentBlockIndex\":1,\"start\":{\"toolUse\":{\"toolUseId\":\"tooluse_mock1\",\"name\":")
                b.writeJSONString(tool)
                b.writeStaticString("}}}")
            }
            frame("contentBlockDelta") { b in
                b.writeStaticString("{\"contentBlockIndex\":1,\"delta\":{\"toolUse\":{\"input\":")
                b.writeJSONString(MockToolCall.arguments)
                b.writeStaticString("}}}")
            }
            frame("contentBlockStop") { $0.writeStaticString("{\"contentBlockIndex\":1}") }
        }
        frame("messageStop") { b in
            b.writeStaticString("{\"stopReason\":")
            b.writeJSONString(stop)
            b.writeStaticString("}")
        }
        frame("metadata") { b in
            b.writeStaticString("{\"usage\":")
            writeUsage(&b)
            b.writeStaticString(",\"metrics\":{\"latencyMs\":1}}")
        }
        return events
    }

    private func writeUsage(_ b: inout ByteBuffer) {
        b.writeStaticString("{\"inputTokens\":")
        b.writeJSONCount(inputTokens, raw: usageRaw)
        b.writeStaticString(",\"outputTokens\":")
        b.writeJSONCount(outputTokens, raw: usageRaw)
        b.writeStaticString(",\"totalTokens\":")
        b.writeJSONCount(inputTokens + outputTokens, raw: usageRaw)
        b.writeStaticString("}")
    }
}
