import NIOCore
import NIOHTTP1

/// Google's error body: `{"error":{"code","message","status"}}`.
struct GeminiError: Error {
    var status: HTTPResponseStatus
    var code: String
    var message: String

    var reply: MockReply {
        var b = ByteBuffer()
        b.writeStaticString("{\"error\":{\"code\":")
        b.writeJSONInt(Int(status.code))
        b.writeStaticString(",\"message\":")
        b.writeJSONString(message)
        b.writeStaticString(",\"status\":")
        b.writeJSONString(code)
        b.writeStaticString("}}")
        return .json(status, b)
    }
}
