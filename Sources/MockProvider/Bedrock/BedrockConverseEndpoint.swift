import NIOCore
import NIOHTTP1

/// Bedrock's Converse (`POST /model/{id}/converse`; `invoke` and `count-tokens` are
/// `BedrockInvokeEndpoint`'s) and ConverseStream (`…/converse-stream`,
/// an `application/vnd.amazon.eventstream` body of messageStart, contentBlockDelta…,
/// contentBlockStop, messageStop and metadata frames). Requests without a SigV4
/// `Authorization` header are refused as AWS refuses them (403); errors are AWS-shaped
/// (`{"message"}` and `x-amzn-ErrorType`).
enum BedrockConverseEndpoint {
    struct Parsed {
        var maxTokens: Int?
        var lastUserContent: JSONValue?
        var firstToolName: String?
    }

    /// `path` is `/model/{id}/{operation}`, the id still percent-encoded.
    static func reply(to request: MockRequest, path: Substring) -> MockReply {
        let parts = path.split(separator: "/")
        let rawModel = parts.count == 3 ? PercentDecoding.decode(parts[1]) : nil
        var reply = reply(to: request, model: rawModel, operation: parts.count == 3 ? parts[2] : "")
        reply.requestedModel = rawModel
        return reply
    }

    private static func reply(to request: MockRequest, model: String?, operation: Substring) -> MockReply {
        let headers = request.head.headers
        guard headers.first(name: "authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=") == true,
              headers.first(name: "x-amz-date") != nil else {
            return error(.forbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
        }
        guard let model else { return error(.badRequest, "ValidationException", "Malformed model identifier.") }
        if operation == "invoke" || operation == "count-tokens" {
            let controls: MockControls
            do throws(MockControlError) {
                (controls, _) = try MockControls.parse(model: model, headers: headers)
            } catch {
                return self.error(.badRequest, "ValidationException", error.message)
            }
            if let fault = faultReply(controls) { return fault.applying(controls) }
            return request.body.withUnsafeReadableBytes { raw in
                let view = JSONView(bytes: raw)
                return operation == "invoke" ? BedrockInvokeEndpoint.invoke(view, model: model) : BedrockInvokeEndpoint.countTokens(view)
            }.applying(controls)
        }
        guard operation == "converse" || operation == "converse-stream" else {
            return error(.notFound, "UnknownOperationException", "Unknown operation")
        }
        return request.body.withUnsafeReadableBytes { raw in
            let view = JSONView(bytes: raw)
            guard let parsed = parse(view) else { return error(.badRequest, "ValidationException", "Malformed input request.") }
            let controls: MockControls
            do throws(MockControlError) {
                (controls, _) = try MockControls.parse(model: model, headers: headers)
            } catch {
                return self.error(.badRequest, "ValidationException", error.message)
            }
            return reply(parsed, view: view, controls: controls, streamed: operation == "converse-stream", inputTokens: max(1, raw.count / 4))
        }
    }

    static func parse(_ view: JSONView) -> Parsed? {
        guard let root = try? view.root() else { return nil }
        let messages = view.elements(view.member("messages", of: root))
        guard !messages.isEmpty else { return nil }
        var parsed = Parsed()
        for message in messages {
            let object = view.object(message)
            if view.string(view.member("role", of: object)) == "user" { parsed.lastUserContent = view.member("content", of: object) }
        }
        parsed.maxTokens = view.int(view.member("maxTokens", of: view.object(view.member("inferenceConfig", of: root))))
        let tools = view.elements(view.member("tools", of: view.object(view.member("toolConfig", of: root))))
        let spec = view.object(view.member("toolSpec", of: view.object(tools.first)))
        parsed.firstToolName = view.string(view.member("name", of: spec))
        return parsed
    }

    private static func reply(_ parsed: Parsed, view: JSONView, controls: MockControls, streamed: Bool, inputTokens: Int) -> MockReply {
        if let fault = faultReply(controls) { return fault.applying(controls) }
        let (tokens, cut) = MockText.reply(controls, limit: parsed.maxTokens) {
            view.joinedText(of: parsed.lastUserContent, typed: false)
        }
        var stop = cut ? "max_tokens" : "end_turn"
        let tool = controls.tool ? parsed.firstToolName : nil
        if tool != nil { stop = "tool_use" }
        let writer = BedrockWriter(inputTokens: inputTokens, outputTokens: tokens.count, usageRaw: controls.usageRaw)
        guard streamed else {
            return MockReply.json(.ok, writer.converse(tokens: tokens, tool: tool, stop: stop)).applying(controls)
        }
        let resetAfter = controls.fault == .midstream ? MockReply.midstreamEventCount : nil
        return MockReply.eventStream(writer.converseStream(tokens: tokens, tool: tool, stop: stop),
                                     contentType: "application/vnd.amazon.eventstream",
                                     pacing: MockReply.pacing(controls), resetAfter: resetAfter)
            .applying(controls)
    }

    static func faultReply(_ controls: MockControls) -> MockReply? {
        guard let fault = controls.fault else { return nil }
        switch fault {
        case .rateLimited:
            return error(.tooManyRequests, "ThrottlingException", "Too many requests, please wait before trying again.")
        case .internalError, .badGateway:
            return error(fault == .internalError ? .internalServerError : .badGateway, "InternalServerException",
                         "The server encountered an internal error while processing the request.")
        case .unavailable:
            return error(.serviceUnavailable, "ServiceUnavailableException", "The service is currently unavailable.")
        case .reset, .hang, .midstream:
            return OpenAIFaults.reply(controls)
        }
    }

    /// AWS's JSON error: `{"message"}` with the exception in `x-amzn-ErrorType`.
    static func error(_ status: HTTPResponseStatus, _ type: String, _ message: String) -> MockReply {
        var b = ByteBuffer()
        b.writeStaticString("{\"message\":")
        b.writeJSONString(message)
        b.writeStaticString("}")
        return .json(status, b, headers: [("x-amzn-ErrorType", type)])
    }
}
