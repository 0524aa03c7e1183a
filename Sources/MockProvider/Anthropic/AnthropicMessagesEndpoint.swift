import NIOCore
import NIOHTTP1

/// Anthropic's Messages API (`POST /v1/messages`), plain and streamed with the documented event
/// sequence (message_start, content_block_start, ping, content_block_delta…, content_block_stop,
/// message_delta, message_stop), and `POST /v1/messages/count_tokens`. With `+tool` and tools
/// in the request, the reply ends with a `tool_use` of the first tool. Errors and injected
/// faults use Anthropic's shape (`{"type":"error","error":{…}}`; 503 becomes its 529 overload).
enum AnthropicMessagesEndpoint {
    struct Parsed {
        var model: String
        var maxTokens: Int
        var stream: Bool
        var lastUserContent: JSONValue?
        var firstToolName: String?
    }

    static func reply(to request: MockRequest, ids: MockIDs) -> MockReply {
        request.body.withUnsafeReadableBytes { raw in
            let view = JSONView(bytes: raw)
            let parsed: Parsed
            do throws(AnthropicError) {
                parsed = try parse(view)
            } catch {
                return error.reply
            }
            let controls: MockControls
            let model: String
            do throws(MockControlError) {
                (controls, model) = try MockControls.parse(model: parsed.model, headers: request.head.headers)
            } catch {
                var reply = AnthropicError(status: .badRequest, type: "invalid_request_error", message: "model: \(error.message)").reply
                reply.requestedModel = parsed.model
                return reply
            }
            var reply = reply(parsed, view: view, model: model, controls: controls, inputTokens: max(1, raw.count / 4), ids: ids)
            reply.requestedModel = parsed.model
            return reply
        }
    }

    /// `POST /v1/messages/count_tokens`: the same estimate `input_tokens` uses.
    static func countTokens(_ request: MockRequest) -> MockReply {
        var b = ByteBuffer()
        b.writeStaticString("{\"input_tokens\":")
        b.writeJSONInt(max(1, request.body.readableBytes / 4))
        b.writeStaticString("}")
        return .json(.ok, b)
    }

    static func parse(_ view: JSONView) throws(AnthropicError) -> Parsed {
        guard let root = try? view.root() else {
            throw AnthropicError(status: .badRequest, type: "invalid_request_error", message: "Invalid JSON in request body.")
        }
        guard let model = view.string(view.member("model", of: root)) else {
            throw AnthropicError(status: .badRequest, type: "invalid_request_error", message: "model: Field required")
        }
        guard let maxTokens = view.int(view.member("max_tokens", of: root)) else {
            throw AnthropicError(status: .badRequest, type: "invalid_request_error", message: "max_tokens: Field required")
        }
        guard maxTokens >= 1 else {
            throw AnthropicError(status: .badRequest, type: "invalid_request_error", message: "max_tokens: Input should be greater than or equal to 1")
        }
        let messages = view.elements(view.member("messages", of: root))
        guard !messages.isEmpty else {
            throw AnthropicError(status: .badRequest, type: "invalid_request_error", message: "messages: Field required (at least one message)")
        }
        var parsed = Parsed(model: model, maxTokens: maxTokens, stream: view.bool(view.member("stream", of: root)) ?? false)
        for message in messages {
            let object = view.object(message)
            if view.string(view.member("role", of: object)) == "user" { parsed.lastUserContent = view.member("content", of: object) }
        }
        let firstTool = view.elements(view.member("tools", of: root)).first
        parsed.firstToolName = view.string(view.member("name", of: view.object(firstTool)))
        return parsed
    }

    private static func reply(_ parsed: Parsed, view: JSONView, model: String, controls: MockControls, inputTokens: Int, ids: MockIDs) -> MockReply {
        if let fault = faultReply(controls) { return fault.applying(controls) }
        let (tokens, cut) = MockText.reply(controls, limit: parsed.maxTokens) {
            view.string(parsed.lastUserContent) ?? view.joinedText(of: parsed.lastUserContent, typed: true)
        }
        var stop = cut ? "max_tokens" : "end_turn"
        let tool = controls.tool ? parsed.firstToolName : nil
        if tool != nil { stop = "tool_use" }
        let id = ids.next("msg_")
        let outputTokens = tokens.count + (tool == nil ? 0 : MockToolCall.completionTokens)
        if parsed.stream {
            let events = AnthropicWriter.stream(id: id, model: model, tokens: tokens, tool: tool, stop: stop,
                                                inputTokens: inputTokens, outputTokens: outputTokens, usageRaw: controls.usageRaw)
            return MockReply.eventStream(events, pacing: MockReply.pacing(controls),
                                         resetAfter: controls.fault == .midstream ? MockReply.midstreamEventCount : nil)
                .adding(header: "request-id", value: id)
                .applying(controls)
        }
        let body = AnthropicWriter.message(id: id, model: model, tokens: tokens, tool: tool, stop: stop,
                                           inputTokens: inputTokens, outputTokens: outputTokens, usageRaw: controls.usageRaw)
        return MockReply.json(.ok, body, headers: [("request-id", id)]).applying(controls)
    }

    static func faultReply(_ controls: MockControls) -> MockReply? {
        guard let fault = controls.fault else { return nil }
        let note = " (injected by the Tollgate mock provider)"
        switch fault {
        case .rateLimited:
            return AnthropicError(status: .tooManyRequests, type: "rate_limit_error",
                                  message: "This request would exceed your organization's rate limit." + note)
                .reply.adding(header: "retry-after", value: String(controls.retryAfterSeconds ?? 1))
        case .internalError, .badGateway:
            return AnthropicError(status: fault == .internalError ? .internalServerError : .badGateway,
                                  type: "api_error", message: "Internal server error" + note).reply
        case .unavailable:
            var reply = AnthropicError(status: HTTPResponseStatus(statusCode: 529), type: "overloaded_error", message: "Overloaded" + note).reply
            if let after = controls.retryAfterSeconds { reply = reply.adding(header: "retry-after", value: String(after)) }
            return reply
        case .reset, .hang, .midstream:
            return OpenAIFaults.reply(controls)
        }
    }
}
