import NIOCore
import NIOHTTP1

/// Gemini's `generateContent` and `streamGenerateContent` (`/v1beta/models/{model}:{method}`,
/// and Vertex AI's publisher-model URL behind a bearer token from the mock's `/token`). With
/// `+tool` and function declarations in the request, the reply is a `functionCall` of the
/// first one. Streams (`alt=sse`) send one partial `GenerateContentResponse` per token and end
/// with the finish reason and `usageMetadata`, then simply end (Gemini has no `[DONE]`);
/// without `alt=sse` the stream is one JSON array of those responses.
enum GeminiEndpoint {
    struct Parsed {
        var maxOutputTokens: Int?
        var lastUserParts: JSONValue?
        var firstFunctionName: String?
    }

    /// `modelAndMethod` is the last path segment, `{model}:{method}`, still percent-encoded.
    static func reply(to request: MockRequest, modelAndMethod: Substring, ids: MockIDs) -> MockReply {
        guard let colon = modelAndMethod.lastIndex(of: ":"),
              let rawModel = PercentDecoding.decode(modelAndMethod[..<colon]) else {
            return GeminiError(status: .notFound, code: "NOT_FOUND", message: "Unknown method.").reply
        }
        let method = modelAndMethod[modelAndMethod.index(after: colon)...]
        if method == "batchEmbedContents" || method == "predict" || method == "countTokens" {
            var reply = auxiliary(request, method: method, model: rawModel)
            reply.requestedModel = rawModel
            return reply
        }
        guard method == "generateContent" || method == "streamGenerateContent" else {
            var reply = GeminiError(status: .notFound, code: "NOT_FOUND", message: "Unknown method \(method).").reply
            reply.requestedModel = rawModel
            return reply
        }
        var reply = request.body.withUnsafeReadableBytes { raw -> MockReply in
            let view = JSONView(bytes: raw)
            let parsed: Parsed
            do throws(GeminiError) {
                parsed = try parse(view)
            } catch {
                return error.reply
            }
            let controls: MockControls
            do throws(MockControlError) {
                (controls, _) = try MockControls.parse(model: rawModel, headers: request.head.headers)
            } catch {
                return GeminiError(status: .badRequest, code: "INVALID_ARGUMENT", message: error.message).reply
            }
            let streamed = method == "streamGenerateContent"
            let sse = request.queryParameter("alt") == "sse"
            return Self.reply(parsed, view: view, model: rawModel, controls: controls, streamed: streamed, sse: sse,
                         promptTokens: max(1, raw.count / 4), responseID: ids.next("mockresp"))
        }
        reply.requestedModel = rawModel
        return reply
    }

    /// Embeddings and token counting (`GeminiEmbedEndpoint`), with the same controls and
    /// faults as generation. Vertex AI paths start with `/projects/`.
    private static func auxiliary(_ request: MockRequest, method: Substring, model: String) -> MockReply {
        let controls: MockControls
        do throws(MockControlError) {
            (controls, _) = try MockControls.parse(model: model, headers: request.head.headers)
        } catch {
            return GeminiError(status: .badRequest, code: "INVALID_ARGUMENT", message: error.message).reply
        }
        if let fault = faultReply(controls) { return fault.applying(controls) }
        let vertex = request.path.hasPrefix("/projects/")
        return request.body.withUnsafeReadableBytes { raw -> MockReply in
            let view = JSONView(bytes: raw)
            switch method {
            case "batchEmbedContents" where !vertex: return GeminiEmbedEndpoint.batchEmbed(view)
            case "predict" where vertex: return GeminiEmbedEndpoint.predict(view)
            case "countTokens": return GeminiEmbedEndpoint.countTokens(view, vertex: vertex)
            default: return GeminiError(status: .notFound, code: "NOT_FOUND", message: "Method \(method) is not available here.").reply
            }
        }.applying(controls)
    }

    static func parse(_ view: JSONView) throws(GeminiError) -> Parsed {
        guard let root = try? view.root() else {
            throw GeminiError(status: .badRequest, code: "INVALID_ARGUMENT", message: "Invalid JSON payload received.")
        }
        let contents = view.elements(view.member("contents", of: root))
        guard !contents.isEmpty else {
            throw GeminiError(status: .badRequest, code: "INVALID_ARGUMENT", message: "* GenerateContentRequest.contents: contents is not specified")
        }
        var parsed = Parsed()
        for content in contents {
            let object = view.object(content)
            if view.string(view.member("role", of: object)) ?? "user" == "user" { parsed.lastUserParts = view.member("parts", of: object) }
        }
        parsed.maxOutputTokens = view.int(view.member("maxOutputTokens", of: view.object(view.member("generationConfig", of: root))))
        let firstTool = view.object(view.elements(view.member("tools", of: root)).first)
        let firstDeclaration = view.object(view.elements(view.member("functionDeclarations", of: firstTool)).first)
        parsed.firstFunctionName = view.string(view.member("name", of: firstDeclaration))
        return parsed
    }

    private static func reply(_ parsed: Parsed, view: JSONView, model: String, controls: MockControls, streamed: Bool, sse: Bool,
                              promptTokens: Int, responseID: String) -> MockReply {
        if let fault = faultReply(controls) { return fault.applying(controls) }
        let (tokens, cut) = MockText.reply(controls, limit: parsed.maxOutputTokens) {
            view.joinedText(of: parsed.lastUserParts, typed: false)
        }
        let finish = cut ? "MAX_TOKENS" : "STOP"
        let writer = GeminiWriter(model: model, responseID: responseID,
                                  promptTokens: promptTokens, candidatesTokens: tokens.count, usageRaw: controls.usageRaw)
        let tool = controls.tool ? parsed.firstFunctionName : nil
        guard streamed else {
            return MockReply.json(.ok, writer.response(tokens: tokens, tool: tool, finish: finish)).applying(controls)
        }
        let events = writer.stream(tokens: tokens, tool: tool, finish: finish, sse: sse)
        let resetAfter = controls.fault == .midstream ? MockReply.midstreamEventCount : nil
        return MockReply.eventStream(events, contentType: sse ? "text/event-stream" : "application/json",
                                     pacing: MockReply.pacing(controls), resetAfter: resetAfter)
            .applying(controls)
    }

    static func faultReply(_ controls: MockControls) -> MockReply? {
        guard let fault = controls.fault else { return nil }
        let note = " (injected by the Tollgate mock provider)"
        switch fault {
        case .rateLimited:
            return GeminiError(status: .tooManyRequests, code: "RESOURCE_EXHAUSTED", message: "Resource has been exhausted (e.g. check quota)." + note).reply
        case .internalError, .badGateway:
            return GeminiError(status: .internalServerError, code: "INTERNAL", message: "An internal error has occurred." + note).reply
        case .unavailable:
            return GeminiError(status: .serviceUnavailable, code: "UNAVAILABLE", message: "The model is overloaded. Please try again later." + note).reply
        case .reset, .hang, .midstream:
            return OpenAIFaults.reply(controls)
        }
    }
}
