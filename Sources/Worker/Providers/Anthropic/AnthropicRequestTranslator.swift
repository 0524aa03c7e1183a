import TollgateCore

/// OpenAI Chat Completions request → Anthropic Messages request.
///
/// Mapping (after Anthropic's Messages API reference and Envoy AI Gateway's translator):
/// system/developer messages are hoisted into `system`; `tool` messages become `tool_result`
/// blocks in a user turn; assistant `tool_calls` become `tool_use` blocks; consecutive turns of
/// one role are merged; images (`image_url`, data: or https URLs) become image blocks;
/// `max_tokens`/`max_completion_tokens` default to `defaultMaxTokens` (Anthropic requires it);
/// `stop` → `stop_sequences`; tools, `tool_choice` and `parallel_tool_calls` map to their
/// Anthropic forms. A field with no Anthropic equivalent is refused with a 400 naming it —
/// never silently dropped. Reads the decoded `ChatRequest`, writes with `JSONBuilder`: texts
/// and schemas are copied as the client's bytes.
enum AnthropicRequestTranslator {
    static let defaultMaxTokens = 4096

    /// Fields accepted and ignored because they have no effect on Anthropic's output.
    static let harmless: Set<String> = ["model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
                                        "temperature", "top_p", "stop", "tools", "tool_choice", "parallel_tool_calls", "user",
                                        "metadata", "store", "service_tier"]

    static func translate(_ request: ChatRequest, upstreamModel: String) -> Result<[UInt8], GatewayError> {
        request.withBytes { raw in translate(request, raw, upstreamModel: upstreamModel) }
    }

    private static func translate(_ request: ChatRequest, _ raw: UnsafeRawBufferPointer, upstreamModel: String) -> Result<[UInt8], GatewayError> {
        for member in request.members where !harmless.contains(member.name) && member.value.kind != .null {
            switch member.name {
            case "n" where request.n == 1: continue
            case "response_format" where request.responseFormat?.type == "text": continue
            case "frequency_penalty" where request.frequencyPenalty?.value == 0: continue
            case "presence_penalty" where request.presencePenalty?.value == 0: continue
            case "logprobs" where request.logprobs == false: continue
            default: return .failure(unsupported(member.name))
            }
        }
        var b = JSONBuilder(capacity: request.body.readableBytes + 256)
        b.beginObject()
        b.key("model")
        b.string(upstreamModel)
        b.key("max_tokens")
        b.int(request.maxTokens ?? defaultMaxTokens)
        if let t = request.temperature {
            guard t.value <= 1 else {
                return .failure(.badRequest("temperature \(t.value) is above 1, the maximum of provider kind anthropic.", code: "unsupported_value", param: "temperature"))
            }
            b.key("temperature")
            b.raw(raw, t.literal)
        }
        if let p = request.topP {
            b.key("top_p")
            b.raw(raw, p.literal)
        }
        if let stops = request.stop {
            b.key("stop_sequences")
            b.beginArray()
            for s in stops { b.string(s) }
            b.endArray()
        }
        if request.stream {
            b.key("stream")
            b.bool(true)
        }
        if let user = request.user {
            b.key("metadata")
            b.beginObject()
            b.key("user_id")
            b.string(user)
            b.endObject()
        }
        guard let messages = request.decodeMessages() else {
            return .failure(.badRequest("Missing required parameter: 'messages'.", code: "missing_messages", param: "messages"))
        }
        var system = JSONBuilder()
        system.beginArray()
        var systemTexts: [JSONSpan] = []
        var systemBlocks = 0
        b.key("messages")
        b.beginArray()
        var turns = TurnWriter()
        for (i, message) in messages.enumerated() {
            let path = "messages[\(i)]"
            let role = message.role ?? ""
            switch role {
            case "system", "developer":
                // Text only: each block is {"type":"text","text":…}; a lone block becomes the string.
                switch message.content {
                case .text(let s):
                    if !s.isEmptyString {
                        systemBlocks += 1
                        systemTexts.append(s)
                        writeText(&system, raw, s)
                    }
                case .parts(let parts):
                    for (k, part) in parts.enumerated() {
                        guard part.type == "text" else { return .failure(unsupportedPart(path, k, part.type)) }
                        systemBlocks += 1
                        if let t = part.text { systemTexts.append(t) }
                        writeText(&system, raw, part.text)
                    }
                case .absent: break
                case .invalid: return .failure(invalidContent(path))
                }
            case "user":
                if let error = contentBlocks(message.content, raw, path: path, allowImages: true, role: "user", turns: &turns, b: &b) {
                    return .failure(error)
                }
            case "assistant":
                if let error = contentBlocks(message.content, raw, path: path, allowImages: false, role: "assistant", turns: &turns, b: &b) {
                    return .failure(error)
                }
                for (j, call) in message.toolCalls.enumerated() {
                    guard let input = ToolArguments.object(call.arguments) else {
                        return .failure(.badRequest("\(path).tool_calls[\(j)].function.arguments is not a JSON object.", code: "invalid_tool_arguments",
                                                    param: "\(path).tool_calls[\(j)].function.arguments"))
                    }
                    turns.block("assistant", in: &b)
                    b.beginObject()
                    b.key("type")
                    b.string("tool_use")
                    b.key("id")
                    b.string(call.id ?? "toolu_\(i)_\(j)")
                    b.key("name")
                    b.string(call.name ?? "")
                    b.key("input")
                    b.raw(input)
                    b.endObject()
                }
            case "tool":
                turns.block("user", in: &b)
                b.beginObject()
                b.key("type")
                b.string("tool_result")
                b.key("tool_use_id")
                b.string(message.toolCallID ?? "")
                b.key("content")
                b.joinedString(raw, message.textSpans.map(\.range), separator: "")
                b.endObject()
            default:
                return .failure(.badRequest("\(path).role '\(role)' is not supported by provider kind anthropic.", code: "unsupported_value", param: "\(path).role"))
            }
        }
        turns.finish(in: &b)
        b.endArray()
        system.endArray()
        if systemBlocks == 1 {
            b.key("system")
            if let text = systemTexts.first { b.raw(raw, text.range) } else { b.string("") }
        } else if systemBlocks > 0 {
            b.key("system")
            b.raw(system.bytes)
        }
        if let error = writeTools(request, raw, &b) { return .failure(error) }
        b.endObject()
        return .success(b.bytes)
    }

    private static func writeText(_ b: inout JSONBuilder, _ raw: UnsafeRawBufferPointer, _ text: JSONSpan?) {
        b.beginObject()
        b.key("type")
        b.string("text")
        b.key("text")
        if let text { b.raw(raw, text.range) } else { b.string("") }
        b.endObject()
    }

    /// OpenAI message content (string or parts) → Anthropic content blocks in `role`'s turn.
    private static func contentBlocks(_ content: ChatMessage.Content, _ raw: UnsafeRawBufferPointer, path: String, allowImages: Bool,
                                      role: String, turns: inout TurnWriter, b: inout JSONBuilder) -> GatewayError? {
        switch content {
        case .text(let s):
            guard !s.isEmptyString else { return nil }
            turns.block(role, in: &b)
            writeText(&b, raw, s)
        case .parts(let parts):
            for (k, part) in parts.enumerated() {
                switch part.type {
                case "text":
                    turns.block(role, in: &b)
                    writeText(&b, raw, part.text)
                case "image_url" where allowImages:
                    let url = part.imageURL ?? ""
                    turns.block(role, in: &b)
                    b.beginObject()
                    b.key("type")
                    b.string("image")
                    b.key("source")
                    b.beginObject()
                    if let data = DataURL.split(url) {
                        b.key("type")
                        b.string("base64")
                        b.key("media_type")
                        b.string(data.mediaType.map(String.init) ?? "image/png")
                        b.key("data")
                        b.string(String(data.data))
                    } else {
                        b.key("type")
                        b.string("url")
                        b.key("url")
                        b.string(url)
                    }
                    b.endObject()
                    b.endObject()
                default:
                    return unsupportedPart(path, k, part.type)
                }
            }
        case .absent:
            break
        case .invalid:
            return invalidContent(path)
        }
        return nil
    }

    private static func writeTools(_ request: ChatRequest, _ raw: UnsafeRawBufferPointer, _ b: inout JSONBuilder) -> GatewayError? {
        if let tools = request.decodeTools() {
            b.key("tools")
            b.beginArray()
            for (i, tool) in tools.enumerated() {
                guard tool.type == "function", tool.hasFunction, let name = tool.name else {
                    return .badRequest("tools[\(i)] must be a function tool for provider kind anthropic.", code: "unsupported_value", param: "tools[\(i)]")
                }
                b.beginObject()
                b.key("name")
                b.string(name)
                b.key("input_schema")
                if let p = tool.parameters, p.kind == .object {
                    b.raw(raw, p.range)
                } else {
                    b.raw(#"{"type":"object","properties":{}}"#.utf8)
                }
                if let d = tool.description {
                    b.key("description")
                    b.raw(raw, d.range)
                }
                b.endObject()
            }
            b.endArray()
        }
        var choice: StaticString?
        var toolName: String?
        switch request.toolChoice {
        case .mode(let s)?:
            switch s {
            case "auto": choice = "auto"
            case "required": choice = "any"
            case "none": choice = "none"
            default: return .badRequest("tool_choice '\(s)' is not supported.", code: "unsupported_value", param: "tool_choice")
            }
        case .function(let name)?:
            guard let name else { return .badRequest("tool_choice must name a function.", code: "unsupported_value", param: "tool_choice") }
            choice = "tool"
            toolName = name
        case .other?, nil:
            break
        }
        let disableParallel = request.parallelToolCalls == false
        if disableParallel && choice == nil { choice = "auto" }
        if let choice {
            b.key("tool_choice")
            b.beginObject()
            b.key("type")
            b.string(choice)
            if let toolName {
                b.key("name")
                b.string(toolName)
            }
            if disableParallel {
                b.key("disable_parallel_tool_use")
                b.bool(true)
            }
            b.endObject()
        }
        return nil
    }

    private static func unsupportedPart(_ path: String, _ k: Int, _ type: String?) -> GatewayError {
        .badRequest("\(path).content[\(k)] of type '\(type ?? "?")' is not supported by provider kind anthropic.",
                    code: "unsupported_value", param: "\(path).content[\(k)]")
    }

    private static func invalidContent(_ path: String) -> GatewayError {
        .badRequest("\(path).content must be a string or an array of parts.", code: "invalid_value", param: "\(path).content")
    }

    static func unsupported(_ field: String) -> GatewayError {
        .badRequest("The parameter '\(field)' is not supported by provider kind anthropic and would be lost; remove it or route this model to an OpenAI-compatible provider.",
                    code: "unsupported_parameter", param: field)
    }
}
