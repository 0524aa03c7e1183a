import NIOCore
import NIOHTTP1

/// Anthropic's error body: `{"type":"error","error":{"type","message"}}`.
struct AnthropicError: Error {
    var status: HTTPResponseStatus
    var type: String
    var message: String

    var reply: MockReply {
        var b = ByteBuffer()
        b.writeStaticString("{\"type\":\"error\",\"error\":{\"type\":")
        b.writeJSONString(type)
        b.writeStaticString(",\"message\":")
        b.writeJSONString(message)
        b.writeStaticString("}}")
        return .json(status, b)
    }
}
