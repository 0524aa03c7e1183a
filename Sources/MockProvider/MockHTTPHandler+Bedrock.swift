import Foundation
import NIOCore
import NIOHTTP1
import TollgateCore

/// Bedrock's Converse (`POST /model/{id}/converse`) and ConverseStream (`…/converse-stream`,
/// an `application/vnd.amazon.eventstream` body of messageStart, contentBlockDelta…,
/// contentBlockStop, messageStop and metadata frames). Requests without a SigV4
/// `Authorization` header are refused like AWS does (403).
extension MockHTTPHandler {
    func bedrock(context: ChannelHandlerContext, head: HTTPRequestHead, path: String, body: [UInt8]) {
        guard head.headers.first(name: "authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=") == true,
              head.headers.first(name: "x-amz-date") != nil else {
            return respond(context: context, head: head, status: .forbidden, json: "{\"message\":\"Missing Authentication Token\"}")
        }
        let parts = path.split(separator: "/")
        guard parts.count == 3, let modelID = String(parts[1]).removingPercentEncoding,
              let request = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let messages = request["messages"] as? [[String: Any]], !messages.isEmpty else {
            return respond(context: context, head: head, status: .badRequest, json: "{\"message\":\"Malformed input request.\"}")
        }
        let (controls, _) = MockControls.parse(model: modelID, headers: head.headers)
        if controls.fault == .rateLimited {
            return respond(context: context, head: head, status: .tooManyRequests, json: "{\"message\":\"Too many requests, please wait before trying again.\"}",
                           extra: [("x-amzn-ErrorType", "ThrottlingException")])
        }
        if injectFault(context: context, head: head, controls: controls, streamingAllowed: true) { return }
        var echo: String?
        if controls.echo, let last = messages.last(where: { $0["role"] as? String == "user" }) {
            echo = (last["content"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }.joined(separator: " ")
        }
        var tokens = MockResponses.tokens(count: controls.outputTokens, echo: echo)
        var stop = "end_turn"
        if let max = (request["inferenceConfig"] as? [String: Any])?["maxTokens"] as? Int, tokens.count > max {
            tokens = Array(tokens.prefix(max))
            stop = "max_tokens"
        }
        let tool = controls.tool ? ((((request["toolConfig"] as? [String: Any])?["tools"] as? [[String: Any]])?.first?["toolSpec"] as? [String: Any])?["name"] as? String) : nil
        if tool != nil { stop = "tool_use" }
        let inputTokens = max(1, body.count / 4)
        let usage = "{\"inputTokens\":\(inputTokens),\"outputTokens\":\(tokens.count),\"totalTokens\":\(inputTokens + tokens.count)}"
        if parts[2] == "converse-stream" {
            func frame(_ type: String, _ json: String) -> [UInt8] {
                EventStreamDecoder.encode(headers: [(":event-type", type), (":content-type", "application/json"), (":message-type", "event")],
                                          payload: Array(json.utf8))
            }
            var out = frame("messageStart", "{\"role\":\"assistant\"}")
            for t in tokens { out += frame("contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":" + JSONWriter.quoted(t) + "}}") }
            out += frame("contentBlockStop", "{\"contentBlockIndex\":0}")
            if let tool {
                out += frame("contentBlockStart", "{\"contentBlockIndex\":1,\"start\":{\"toolUse\":{\"toolUseId\":\"tooluse_mock1\",\"name\":" + JSONWriter.quoted(tool) + "}}}")
                out += frame("contentBlockDelta", "{\"contentBlockIndex\":1,\"delta\":{\"toolUse\":{\"input\":\"{\\\"query\\\":\\\"mock\\\"}\"}}}")
                out += frame("contentBlockStop", "{\"contentBlockIndex\":1}")
            }
            out += frame("messageStop", "{\"stopReason\":\"\(stop)\"}")
            out += frame("metadata", "{\"usage\":" + usage + ",\"metrics\":{\"latencyMs\":1}}")
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/vnd.amazon.eventstream")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: out)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        guard parts[2] == "converse" else {
            return respond(context: context, head: head, status: .notFound, json: "{\"message\":\"Unknown operation\"}")
        }
        var content: [String] = tokens.isEmpty ? [] : ["{\"text\":" + JSONWriter.quoted(tokens.joined()) + "}"]
        if let tool { content.append("{\"toolUse\":{\"toolUseId\":\"tooluse_mock1\",\"name\":" + JSONWriter.quoted(tool) + ",\"input\":{\"query\":\"mock\"}}}") }
        respond(context: context, head: head, status: .ok, json: "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":[" + content.joined(separator: ",")
                + "]}},\"stopReason\":\"\(stop)\",\"usage\":" + usage + ",\"metrics\":{\"latencyMs\":1}}")
    }
}
