import Foundation
import NIOCore
import NIOHTTP1
import TollgateCore

/// Gemini's `generateContent` and `streamGenerateContent?alt=sse` (`/v1beta/models/{model}:…`).
/// With `+tool` and function declarations in the request, the reply is a `functionCall` of the
/// first one. Streams send one partial `GenerateContentResponse` per token and end with the
/// finish reason and `usageMetadata`, then simply close the body (Gemini has no `[DONE]`).
extension MockHTTPHandler {
    func gemini(context: ChannelHandlerContext, head: HTTPRequestHead, path: String, body: [UInt8]) {
        guard let colon = path.lastIndex(of: ":") else {
            return respond(context: context, head: head, status: .notFound, json: Self.geminiError(404, "NOT_FOUND", "Unknown method."))
        }
        let rawModel = String(path[path.index(path.startIndex, offsetBy: "/v1beta/models/".count)..<colon]).removingPercentEncoding ?? ""
        let method = path[path.index(after: colon)...]
        guard let request = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let contents = request["contents"] as? [[String: Any]], !contents.isEmpty else {
            return respond(context: context, head: head, status: .badRequest,
                           json: Self.geminiError(400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified"))
        }
        let (controls, _) = MockControls.parse(model: rawModel, headers: head.headers)
        if let fault = controls.fault, [.rateLimited, .internalError, .badGateway, .unavailable].contains(fault) {
            let status: HTTPResponseStatus = fault == .rateLimited ? .tooManyRequests : (fault == .unavailable ? .serviceUnavailable : .internalServerError)
            let code = fault == .rateLimited ? "RESOURCE_EXHAUSTED" : (fault == .unavailable ? "UNAVAILABLE" : "INTERNAL")
            return respond(context: context, head: head, status: status, json: Self.geminiError(Int(status.code), code, "Mock \(code)."))
        }
        if injectFault(context: context, head: head, controls: controls, streamingAllowed: true) { return }
        var echo: String?
        if controls.echo, let last = contents.last(where: { $0["role"] as? String == "user" }) {
            echo = (last["parts"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }.joined(separator: " ")
        }
        var tokens = MockResponses.tokens(count: controls.outputTokens, echo: echo)
        var finish = "STOP"
        if let max = (request["generationConfig"] as? [String: Any])?["maxOutputTokens"] as? Int, tokens.count > max {
            tokens = Array(tokens.prefix(max))
            finish = "MAX_TOKENS"
        }
        let tool = controls.tool
            ? (((request["tools"] as? [[String: Any]])?.first?["functionDeclarations"] as? [[String: Any]])?.first?["name"] as? String) : nil
        let promptTokens = max(1, body.count / 4)
        let usage = "{\"promptTokenCount\":\(promptTokens),\"candidatesTokenCount\":\(tokens.count),\"totalTokenCount\":\(promptTokens + tokens.count)}"
        let responseID = "mockresp\(Self.counter.next())"
        func response(parts: [String], finish: String?, withUsage: Bool) -> String {
            var s = "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[" + parts.joined(separator: ",") + "]},\"index\":0"
            if let finish { s += ",\"finishReason\":\"\(finish)\"" }
            s += "}]"
            if withUsage { s += ",\"usageMetadata\":" + usage }
            return s + ",\"modelVersion\":" + JSONWriter.quoted(rawModel) + ",\"responseId\":\"\(responseID)\"}"
        }
        let toolPart = tool.map { "{\"functionCall\":{\"name\":" + JSONWriter.quoted($0) + ",\"args\":{\"query\":\"mock\"}}}" }
        if method == "streamGenerateContent" {
            var events = tokens.map { "data: " + response(parts: ["{\"text\":" + JSONWriter.quoted($0) + "}"], finish: nil, withUsage: false) + "\r\n\r\n" }
            events.append("data: " + response(parts: toolPart.map { [$0] } ?? [], finish: finish, withUsage: true) + "\r\n\r\n")
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "text/event-stream")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: events.joined())))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        guard method == "generateContent" else {
            return respond(context: context, head: head, status: .notFound, json: Self.geminiError(404, "NOT_FOUND", "Unknown method \(method)."))
        }
        var parts: [String] = tokens.isEmpty ? [] : ["{\"text\":" + JSONWriter.quoted(tokens.joined()) + "}"]
        if let toolPart { parts.append(toolPart) }
        respond(context: context, head: head, status: .ok, json: response(parts: parts, finish: finish, withUsage: true))
    }

    static func geminiError(_ code: Int, _ status: String, _ message: String) -> String {
        "{\"error\":{\"code\":\(code),\"message\":" + JSONWriter.quoted(message) + ",\"status\":\"\(status)\"}}"
    }
}
