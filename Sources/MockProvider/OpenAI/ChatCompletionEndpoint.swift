import NIOCore
import NIOHTTP1

/// `POST /v1/chat/completions` (and Azure OpenAI's `…/deployments/{d}/chat/completions`):
/// validates the request like OpenAI, applies the mock controls of its model name and headers,
/// and answers with the mock's deterministic text (or the echoed prompt, or a tool call),
/// whole or streamed.
enum ChatCompletionEndpoint {
    static func reply(to request: MockRequest, ids: MockIDs, created: Int, defaultModel: String? = nil) -> MockReply {
        request.body.withUnsafeReadableBytes { raw in
            let view = JSONView(bytes: raw)
            let chat: ChatCompletionRequest
            do throws(OpenAIError) {
                chat = try ChatCompletionRequest.parse(view, defaultModel: defaultModel)
            } catch {
                return error.reply(.badRequest)
            }
            var reply = reply(to: chat, view: view, headers: request.head.headers, ids: ids, created: created)
            reply.requestedModel = chat.model
            return reply
        }
    }

    private static func reply(to chat: ChatCompletionRequest, view: JSONView, headers: HTTPHeaders, ids: MockIDs, created: Int) -> MockReply {
        let controls: MockControls
        let model: String
        do throws(MockControlError) {
            (controls, model) = try MockControls.parse(model: chat.model, headers: headers)
        } catch {
            return OpenAIError.invalidControl(error).reply(.badRequest)
        }
        if let fault = OpenAIFaults.reply(controls) { return fault.applying(controls) }

        let writer = ChatCompletionWriter(id: ids.next("chatcmpl-"), created: created, model: model)
        let options = ChatCompletionWriter.StreamOptions(includeUsage: chat.includeUsage, includeObfuscation: chat.includeObfuscation)
        if controls.tool, let name = chat.firstToolName {
            let call = MockToolCall(id: ids.next("call_"), name: name)
            let usage = ChatUsage(promptTokens: chat.promptTokens, completionTokens: MockToolCall.completionTokens, raw: controls.usageRaw)
            if chat.stream {
                return stream(writer.toolCallStream(call, usage: usage, options: options), controls)
            }
            return MockReply.json(.ok, writer.toolCallCompletion(call, usage: usage)).applying(controls)
        }

        let (tokens, cut) = MockText.reply(controls, limit: chat.maxTokens) { chat.lastUserText(view) }
        let finishReason = cut ? "length" : "stop"
        let usage = ChatUsage(promptTokens: chat.promptTokens, completionTokens: tokens.count, raw: controls.usageRaw)
        if chat.stream {
            return stream(writer.stream(tokens: tokens, finishReason: finishReason, usage: usage, options: options), controls)
        }
        return MockReply.json(.ok, writer.completion(tokens: tokens, finishReason: finishReason, usage: usage)).applying(controls)
    }

    private static func stream(_ events: MockEventBody, _ controls: MockControls) -> MockReply {
        MockReply.eventStream(events, pacing: MockReply.pacing(controls),
                              resetAfter: controls.fault == .midstream ? MockReply.midstreamEventCount : nil)
            .applying(controls)
    }
}
