/// The API dialect a client speaks to the gateway.
public enum APIFront: Sendable, Equatable {
    case openAI
    case anthropic
}

/// An error the gateway answers a client with, in the shape of the API front the client speaks.
///
/// The foundation front is OpenAI's (`{"error":{"message","type","param","code"}}`); the
/// Anthropic front renders the same value as `{"type":"error","error":{"type","message"}}`.
/// Messages are written for the person who has to fix the request, and never contain secrets.
public struct GatewayError: Error, Sendable, Equatable {
    public var status: Int
    /// OpenAI error `type`: `invalid_request_error` (4xx) or `server_error`/`api_error` (5xx) …
    public var type: String
    /// Stable machine-readable code clients can switch on, e.g. `model_not_found`.
    public var code: String?
    public var param: String?
    public var message: String
    /// Extra response headers (e.g. `retry-after`).
    public var headers: [(String, String)]
    /// Extra members of the `error` object, already encoded as JSON values (e.g. the attempts
    /// a failed fallback chain made).
    public var extraJSONMembers: [(String, String)]

    public init(
        status: Int, type: String, code: String?, param: String? = nil, message: String,
        headers: [(String, String)] = [], extraJSONMembers: [(String, String)] = []
    ) {
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.message = message
        self.headers = headers
        self.extraJSONMembers = extraJSONMembers
    }

    public static func == (lhs: GatewayError, rhs: GatewayError) -> Bool {
        lhs.status == rhs.status && lhs.type == rhs.type && lhs.code == rhs.code && lhs.param == rhs.param
            && lhs.message == rhs.message && lhs.headers.elementsEqual(rhs.headers, by: ==)
            && lhs.extraJSONMembers.elementsEqual(rhs.extraJSONMembers, by: ==)
    }

    /// The body in the shape of `front`.
    public func body(for front: APIFront) -> String {
        switch front {
        case .openAI: return openAIBody
        case .anthropic: return anthropicBody
        }
    }

    /// Anthropic's error shape: `{"type":"error","error":{"type","message"}}`, with the error
    /// type Anthropic uses for the status.
    public var anthropicBody: String {
        let kind: String
        switch status {
        case 400, 405, 408, 422: kind = "invalid_request_error"
        case 401: kind = "authentication_error"
        case 403: kind = "permission_error"
        case 404: kind = "not_found_error"
        case 413: kind = "request_too_large"
        case 429: kind = "rate_limit_error"
        case 503, 529: kind = "overloaded_error"
        case 504: kind = "timeout_error"
        default: kind = status >= 500 ? "api_error" : "invalid_request_error"
        }
        return "{\"type\":\"error\",\"error\":{\"type\":\"\(kind)\",\"message\":" + JSONWriter.quoted(message) + "}}"
    }

    /// The OpenAI-shaped JSON body.
    public var openAIBody: String {
        var out = "{\"error\":{\"message\":"
        out += JSONWriter.quoted(message)
        out += ",\"type\":" + JSONWriter.quoted(type)
        out += ",\"param\":" + (param.map(JSONWriter.quoted) ?? "null")
        out += ",\"code\":" + (code.map(JSONWriter.quoted) ?? "null")
        for (name, json) in extraJSONMembers {
            out += "," + JSONWriter.quoted(name) + ":" + json
        }
        out += "}}"
        return out
    }
}

extension GatewayError {
    public static func badRequest(_ message: String, code: String? = nil, param: String? = nil) -> GatewayError {
        GatewayError(status: 400, type: "invalid_request_error", code: code, param: param, message: message)
    }

    public static func unauthorized(_ message: String) -> GatewayError {
        GatewayError(status: 401, type: "invalid_request_error", code: "invalid_api_key", message: message)
    }

    public static func forbidden(_ message: String, code: String) -> GatewayError {
        GatewayError(status: 403, type: "permission_error", code: code, message: message)
    }

    public static func notFound(_ message: String, code: String, param: String? = nil) -> GatewayError {
        GatewayError(status: 404, type: "invalid_request_error", code: code, param: param, message: message)
    }

    public static func methodNotAllowed(_ message: String, allow: String) -> GatewayError {
        GatewayError(status: 405, type: "invalid_request_error", code: "method_not_allowed", message: message,
                     headers: [("allow", allow)])
    }

    public static func requestTimeout(_ message: String) -> GatewayError {
        GatewayError(status: 408, type: "invalid_request_error", code: "request_timeout", message: message)
    }

    public static func payloadTooLarge(limit: Int) -> GatewayError {
        GatewayError(status: 413, type: "invalid_request_error", code: "request_too_large",
                     message: "Request body exceeds the gateway's limit of \(limit) bytes.")
    }

    public static func headersTooLarge(limit: Int) -> GatewayError {
        GatewayError(status: 431, type: "invalid_request_error", code: "request_header_fields_too_large",
                     message: "Request headers exceed the gateway's limit of \(limit) bytes.")
    }

    public static func serviceUnavailable(_ message: String, code: String) -> GatewayError {
        GatewayError(status: 503, type: "server_error", code: code, message: message)
    }
}
