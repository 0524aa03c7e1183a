import NIOCore
import NIOHTTP1

/// OpenAI's error body (`ErrorResponse`): `{"error":{"message","type","param","code"}}`, all
/// four members present, `param` and `code` null when they do not apply.
struct OpenAIError: Error, Equatable {
    var message: String
    var type: String
    var param: String?
    var code: String?

    static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> OpenAIError {
        OpenAIError(message: message, type: "invalid_request_error", param: param, code: code)
    }

    static func missing(_ param: String) -> OpenAIError {
        invalidRequest("Missing required parameter: '\(param)'.", param: param, code: "missing_required_parameter")
    }

    static func invalidType(_ param: String, expected: String, got value: JSONValue) -> OpenAIError {
        invalidRequest("Invalid type for '\(param)': expected \(expected), but got \(value.kindDescription) instead.",
                       param: param, code: "invalid_type")
    }

    static func belowMinimum(_ param: String, minimum: Int, got: Int) -> OpenAIError {
        invalidRequest("Invalid '\(param)': integer below minimum value. Expected a value >= \(minimum), but got \(got) instead.",
                       param: param, code: "integer_below_min_value")
    }

    static func aboveMaximum(_ param: String, maximum: Int, got: Int) -> OpenAIError {
        invalidRequest("Invalid '\(param)': integer above maximum value. Expected a value <= \(maximum), but got \(got) instead.",
                       param: param, code: "integer_above_max_value")
    }

    /// A mock control in the model name or the headers that the mock cannot honour.
    static func invalidControl(_ error: MockControlError) -> OpenAIError {
        invalidRequest(error.message, param: "model", code: "invalid_mock_control")
    }

    /// The body OpenAI sends for a document that is not JSON (plus where the mock's parser stopped).
    static func unparsable(_ reason: CustomStringConvertible) -> OpenAIError {
        invalidRequest("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library "
                       + "correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.) Parser: \(reason).")
    }

    var body: ByteBuffer {
        var b = ByteBufferAllocator().buffer(capacity: 96 + message.utf8.count)
        b.writeStaticString("{\"error\":{\"message\":")
        b.writeJSONString(message)
        b.writeStaticString(",\"type\":")
        b.writeJSONString(type)
        b.writeStaticString(",\"param\":")
        b.writeJSONStringOrNull(param)
        b.writeStaticString(",\"code\":")
        b.writeJSONStringOrNull(code)
        b.writeStaticString("}}")
        return b
    }

    /// This error as a complete JSON reply.
    func reply(_ status: HTTPResponseStatus, headers: [(String, String)] = []) -> MockReply {
        .json(status, body, headers: headers)
    }
}
