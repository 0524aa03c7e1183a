import NIOCore

/// Anthropic Messages bodies: the `message` object and the streamed event sequence.
enum AnthropicWriter {
    static func message(id: String, model: String, tokens: [String], tool: String?, stop: String,
                        inputTokens: Int, outputTokens: Int, usageRaw: String? = nil) -> ByteBuffer {
        var b = ByteBufferAllocator().buffer(capacity: 512 + tokens.count * 8)
        b.writeStaticString("{\"id\":")
        b.writeJSONString(id)
        b.writeStaticString(",\"type\":\"message\",\"role\":\"assistant\",\"model\":")
        b.writeJSONString(model)
        b.writeStaticString(",\"content\":[")
        if !tokens.isEmpty {
            b.writeStaticString("{\"type\":\"text\",\"text\":\"")
            for token in tokens { b.writeJSONEscaped(token) }
            b.writeStaticString("\"}")
        }
        if let tool {
            if !tokens.isEmpty { b.writeStaticString(",") }
            writeToolUse(tool, input: MockToolCall.arguments, into: &b)
        }
        b.writeStaticString("],\"stop_reason\":")
        b.writeJSONString(stop)
        b.writeStaticString(",\"stop_sequence\":null,\"usage\":{\"input_tokens\":")
        b.writeJSONCount(inputTokens, raw: usageRaw)
        b.writeStaticString(",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":")
        b.writeJSONCount(outputTokens, raw: usageRaw)
        b.writeStaticString("}}")
        return b
    }

    static func stream(id: String, model: String, tokens: [String], tool: String?, stop: String,
                       inputTokens: Int, outputTokens: Int, usageRaw: String? = nil) -> MockEventBody {
        var events = MockEventBody(capacity: 512 + tokens.count * 128)
        func event(_ name: StaticString, _ data: (inout ByteBuffer) -> Void) {
            events.append { b in
                b.writeStaticString("event: ")
                b.writeStaticString(name)
                b.writeStaticString("\ndata: ")
                data(&b)
                b.writeStaticString("\n\n")
            }
        }
        event("message_start") { b in
            b.writeStaticString("{\"type\":\"message_start\",\"message\":{\"id\":")
            b.writeJSONString(id)
            b.writeStaticString(",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":")
            b.writeJSONString(model)
            b.writeStaticString(",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":")
            b.writeJSONCount(inputTokens, raw: usageRaw)
            b.writeStaticString(",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":1}}}")
        }
        event("content_block_start") { $0.writeStaticString("{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}") }
        event("ping") { $0.writeStaticString("{\"type\": \"ping\"}") }
        for token in tokens {
            event("content_block_delta") { b in
                b.writeStaticString("{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":")
                b.writeJSONString(token)
                b.writeStaticString("}}")
            }
        }
        event("content_block_stop") { $0.writeStaticString("{\"type\":\"content_block_stop\",\"index\":0}") }
        if let tool {
            event("content_block_start") { b in
                b.writeStaticString("{\"type\":\"content_block_start\",\"index\":1,\"content_block\":")
                writeToolUse(tool, input: "{}", into: &b)
                b.writeStaticString("}")
            }
            for fragment in MockToolCall.argumentFragments {
                event("content_block_delta") { b in
                    b.writeStaticString("{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":")
                    b.writeJSONString(fragment)
                    b.writeStaticString("}}")
                }
            }
            event("content_block_stop") { $0.writeStaticString("{\"type\":\"content_block_stop\",\"index\":1}") }
        }
        event("message_delta") { b in
            b.writeStaticString("{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":")
            b.writeJSONString(stop)
            b.writeStaticString(",\"stop_sequence\":null},\"usage\":{\"output_tokens\":")
            b.writeJSONCount(outputTokens, raw: usageRaw)
            b.writeStaticString("}}")
        }
        event("message_stop") { $0.writeStaticString("{\"type\":\"message_stop\"}") }
        return events
    }

    /// `{"type":"tool_use","id":…,"name":…,"input":<input JSON>}`.
    private static func writeToolUse(_ name: String, input: String, into b: inout ByteBuffer) {
        b.writeStaticString("{\"type\":\"tool_use\",\"id\":\"toolu_mock1\",\"name\":")
        b.writeJSONString(name)
        b.writeStaticString(",\"input\":")
        b.writeString(input)
        b.writeStaticString("}")
    }
}
