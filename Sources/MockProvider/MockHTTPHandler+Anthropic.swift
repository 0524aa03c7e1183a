import Foundation
import NIOCore
import NIOHTTP1
import TollgateCore

/// Anthropic's Messages API (`POST /v1/messages`), plain and streamed with the documented
/// event sequence (message_start, content_block_start, ping, content_block_delta…,
/// content_block_stop, message_delta, message_stop). With `+tool` (or `x-mock-tool: true`) and
/// tools in the request, the reply is a `tool_use` of the first tool.
extension MockHTTPHandler {
    func anthropicMessages(context: ChannelHandlerContext, head: HTTPRequestHead, body: [UInt8]) {
        guard let request = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            return respond(context: context, head: head, status: .badRequest, json: Self.anthropicError("invalid_request_error", "Invalid JSON in request body."))
        }
        guard let rawModel = request["model"] as? String else {
            return respond(context: context, head: head, status: .badRequest, json: Self.anthropicError("invalid_request_error", "model: Field required"))
        }
        guard let maxTokens = request["max_tokens"] as? Int else {
            return respond(context: context, head: head, status: .badRequest, json: Self.anthropicError("invalid_request_error", "max_tokens: Field required"))
        }
        guard let messages = request["messages"] as? [[String: Any]], !messages.isEmpty else {
            return respond(context: context, head: head, status: .badRequest, json: Self.anthropicError("invalid_request_error", "messages: Field required"))
        }
        let (controls, model) = MockControls.parse(model: rawModel, headers: head.headers)
        if let fault = controls.fault, [.rateLimited, .internalError, .badGateway, .unavailable].contains(fault) {
            let (status, type): (HTTPResponseStatus, String) = switch fault {
            case .rateLimited: (.tooManyRequests, "rate_limit_error")
            case .unavailable: (HTTPResponseStatus(statusCode: 529), "overloaded_error")
            default: (.internalServerError, "api_error")
            }
            return respond(context: context, head: head, status: status, json: Self.anthropicError(type, "Mock \(type)."),
                           extra: [("retry-after", String(controls.retryAfterSeconds))])
        }
        if injectFault(context: context, head: head, controls: controls, streamingAllowed: true) { return }

        var echo: String?
        if controls.echo, let last = messages.last(where: { $0["role"] as? String == "user" }) {
            switch last["content"] {
            case let s as String: echo = s
            case let blocks as [[String: Any]]: echo = blocks.compactMap { $0["type"] as? String == "text" ? $0["text"] as? String : nil }.joined(separator: " ")
            default: echo = ""
            }
        }
        var tokens = MockResponses.tokens(count: controls.outputTokens, echo: echo)
        var stop = "end_turn"
        if tokens.count > maxTokens {
            tokens = Array(tokens.prefix(maxTokens))
            stop = "max_tokens"
        }
        let wantsTool = head.headers.first(name: "x-mock-tool") == "true" || rawModel.contains("+tool")
        let tool = wantsTool ? ((request["tools"] as? [[String: Any]])?.first?["name"] as? String) : nil
        if tool != nil { stop = "tool_use" }
        let inputTokens = max(1, body.count / 4)
        let id = "msg_mock\(Self.counter.next())"

        if request["stream"] as? Bool == true {
            var events: [(String, String)] = []
            events.append(("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"\(id)\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":"
                           + JSONWriter.quoted(model) + ",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":\(inputTokens),\"output_tokens\":1}}}"))
            events.append(("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"))
            events.append(("ping", "{\"type\": \"ping\"}"))
            for t in tokens {
                events.append(("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":" + JSONWriter.quoted(t) + "}}"))
            }
            events.append(("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"))
            if let tool {
                events.append(("content_block_start", "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_mock1\",\"name\":"
                               + JSONWriter.quoted(tool) + ",\"input\":{}}}"))
                for piece in ["{\"query\":", " \"mock\"}"] {
                    events.append(("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":"
                                   + JSONWriter.quoted(piece) + "}}"))
                }
                events.append(("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}"))
            }
            events.append(("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"\(stop)\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":\(tokens.count)}}"))
            events.append(("message_stop", "{\"type\":\"message_stop\"}"))
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "text/event-stream; charset=utf-8")
            headers.add(name: "request-id", value: "req_mock_\(id)")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
            var buffer = context.channel.allocator.buffer(capacity: 4096)
            for (name, data) in events {
                buffer.writeString("event: \(name)\ndata: \(data)\n\n")
            }
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        var content: [String] = []
        if !tokens.isEmpty { content.append("{\"type\":\"text\",\"text\":" + JSONWriter.quoted(tokens.joined()) + "}") }
        if let tool {
            content.append("{\"type\":\"tool_use\",\"id\":\"toolu_mock1\",\"name\":" + JSONWriter.quoted(tool) + ",\"input\":{\"query\":\"mock\"}}")
        }
        let json = "{\"id\":\"\(id)\",\"type\":\"message\",\"role\":\"assistant\",\"model\":" + JSONWriter.quoted(model)
            + ",\"content\":[" + content.joined(separator: ",") + "],\"stop_reason\":\"\(stop)\",\"stop_sequence\":null,"
            + "\"usage\":{\"input_tokens\":\(inputTokens),\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":\(tokens.count)}}"
        respond(context: context, head: head, status: .ok, json: json)
    }

    static func anthropicError(_ type: String, _ message: String) -> String {
        "{\"type\":\"error\",\"error\":{\"type\":\"\(type)\",\"message\":" + JSONWriter.quoted(message) + "}}"
    }
}
