import TollgateCore

/// OpenAI Chat Completions request → Bedrock Converse request.
///
/// System messages → `system`; text and images (data: URLs → `image.source.bytes`) → content
/// blocks; assistant `tool_calls` → `toolUse` blocks; `tool` messages → `toolResult` blocks in
/// a user turn; consecutive turns of one role merge; sampling → `inferenceConfig`; tools →
/// `toolConfig`. Fields Converse cannot express are refused with a 400 naming them. Reads the
/// decoded `ChatRequest`, writes with `JSONBuilder`.
enum BedrockConverseTranslator {
    static let accepted: Set<String> = ["model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
                                        "temperature", "top_p", "stop", "tools", "tool_choice", "user", "store", "metadata"]

    static func translate(_ request: ChatRequest) -> Result<[UInt8], GatewayError> {
        var b = JSONBuilder(capacity: request.body.readableBytes + 256)
        b.beginObject()
        if let error = request.withBytes({ write(request, $0, into: &b, promptOnly: false) }) { return .failure(error) }
        b.endObject()
        return .success(b.bytes)
    }

    /// Writes the Converse members into the open object `b`; `promptOnly` keeps the ones that
    /// make up the prompt (messages, system, toolConfig), for CountTokens.
    static func write(_ request: ChatRequest, _ raw: UnsafeRawBufferPointer, into b: inout JSONBuilder, promptOnly: Bool) -> GatewayError? {
        for member in request.members where !accepted.contains(member.name) && member.value.kind != .null {
            if member.name == "n", request.n == 1 { continue }
            return .badRequest("The parameter '\(member.name)' is not supported by provider kind bedrock and would be lost.",
                               code: "unsupported_parameter", param: member.name)
        }
        guard let messages = request.decodeMessages() else {
            return .badRequest("Missing required parameter: 'messages'.", code: "missing_messages", param: "messages")
        }
        var system = JSONBuilder()
        system.beginArray()
        var hasSystem = false
        b.key("messages")
        b.beginArray()
        var turns = TurnWriter()
        for (i, message) in messages.enumerated() {
            let path = "messages[\(i)]"
            switch message.role {
            case "system", "developer":
                for text in message.textSpans {
                    hasSystem = true
                    system.beginObject()
                    system.key("text")
                    system.raw(raw, text.range)
                    system.endObject()
                }
            case "user":
                if let error = blocks(message.content, raw, path: path, turns: &turns, b: &b) { return error }
            case "assistant":
                if case .text(let s) = message.content, !s.isEmptyString {
                    turns.block("assistant", in: &b)
                    b.beginObject()
                    b.key("text")
                    b.raw(raw, s.range)
                    b.endObject()
                }
                for (j, call) in message.toolCalls.enumerated() {
                    guard let input = ToolArguments.object(call.arguments) else {
                        return .badRequest("\(path).tool_calls[\(j)].function.arguments is not a JSON object.", code: "invalid_tool_arguments",
                                           param: "\(path).tool_calls[\(j)].function.arguments")
                    }
                    turns.block("assistant", in: &b)
                    b.beginObject()
                    b.key("toolUse")
                    b.beginObject()
                    b.key("toolUseId")
                    b.string(call.id ?? "tool_\(i)_\(j)")
                    b.key("name")
                    b.string(call.name ?? "")
                    b.key("input")
                    b.raw(input)
                    b.endObject()
                    b.endObject()
                }
            case "tool":
                turns.block("user", in: &b)
                b.beginObject()
                b.key("toolResult")
                b.beginObject()
                b.key("toolUseId")
                b.string(message.toolCallID ?? "")
                b.key("content")
                b.beginArray()
                b.beginObject()
                b.key("text")
                if case .text(let s) = message.content { b.raw(raw, s.range) } else { b.string("") }
                b.endObject()
                b.endArray()
                b.endObject()
                b.endObject()
            default:
                return .badRequest("\(path).role is not supported by provider kind bedrock.", code: "unsupported_value", param: "\(path).role")
            }
        }
        turns.finish(in: &b)
        b.endArray()
        system.endArray()
        if hasSystem {
            b.key("system")
            b.raw(system.bytes)
        }
        if !promptOnly { writeInference(request, raw, &b) }
        if let tools = request.decodeTools() {
            b.key("toolConfig")
            b.beginObject()
            b.key("tools")
            b.beginArray()
            for (i, tool) in tools.enumerated() {
                guard tool.type == "function", tool.hasFunction, let name = tool.name else {
                    return .badRequest("tools[\(i)] must be a function tool for provider kind bedrock.", code: "unsupported_value", param: "tools[\(i)]")
                }
                b.beginObject()
                b.key("toolSpec")
                b.beginObject()
                b.key("name")
                b.string(name)
                b.key("inputSchema")
                b.beginObject()
                b.key("json")
                if let p = tool.parameters { b.raw(raw, p.range) } else { b.raw(#"{"type":"object"}"#.utf8) }
                b.endObject()
                if let d = tool.description {
                    b.key("description")
                    b.raw(raw, d.range)
                }
                b.endObject()
                b.endObject()
            }
            b.endArray()
            switch request.toolChoice {
            case .mode("auto")?:
                b.key("toolChoice")
                b.raw(#"{"auto":{}}"#.utf8)
            case .mode("required")?:
                b.key("toolChoice")
                b.raw(#"{"any":{}}"#.utf8)
            case .mode("none")?:
                return .badRequest("tool_choice 'none' is not supported by provider kind bedrock; omit the tools instead.", code: "unsupported_value", param: "tool_choice")
            case .function(let name)?:
                b.key("toolChoice")
                b.beginObject()
                b.key("tool")
                b.beginObject()
                b.key("name")
                b.string(name ?? "")
                b.endObject()
                b.endObject()
            default:
                break
            }
            b.endObject()
        }
        return nil
    }

    private static func writeInference(_ request: ChatRequest, _ raw: UnsafeRawBufferPointer, _ b: inout JSONBuilder) {
        guard request.maxTokens != nil || request.temperature != nil || request.topP != nil || request.stop != nil else { return }
        b.key("inferenceConfig")
        b.beginObject()
        if let n = request.maxTokens {
            b.key("maxTokens")
            b.int(n)
        }
        if let t = request.temperature {
            b.key("temperature")
            b.raw(raw, t.literal)
        }
        if let p = request.topP {
            b.key("topP")
            b.raw(raw, p.literal)
        }
        if let stops = request.stop {
            b.key("stopSequences")
            b.beginArray()
            for s in stops { b.string(s) }
            b.endArray()
        }
        b.endObject()
    }

    /// OpenAI user content → Converse content blocks (wrong types read as no blocks).
    private static func blocks(_ content: ChatMessage.Content, _ raw: UnsafeRawBufferPointer, path: String,
                               turns: inout TurnWriter, b: inout JSONBuilder) -> GatewayError? {
        switch content {
        case .text(let s):
            guard !s.isEmptyString else { return nil }
            turns.block("user", in: &b)
            b.beginObject()
            b.key("text")
            b.raw(raw, s.range)
            b.endObject()
        case .parts(let parts):
            for (k, part) in parts.enumerated() {
                switch part.type {
                case "text":
                    turns.block("user", in: &b)
                    b.beginObject()
                    b.key("text")
                    if let t = part.text { b.raw(raw, t.range) } else { b.string("") }
                    b.endObject()
                case "image_url":
                    guard let data = DataURL.split(part.imageURL ?? "", prefix: "data:image/") else {
                        return .badRequest("\(path).content[\(k)]: provider kind bedrock takes images as data: URLs only.",
                                           code: "unsupported_value", param: "\(path).content[\(k)]")
                    }
                    let mime = data.mediaType.map(String.init) ?? "png"
                    turns.block("user", in: &b)
                    b.beginObject()
                    b.key("image")
                    b.beginObject()
                    b.key("format")
                    b.string(mime == "jpg" ? "jpeg" : mime)
                    b.key("source")
                    b.beginObject()
                    b.key("bytes")
                    b.string(String(data.data))
                    b.endObject()
                    b.endObject()
                    b.endObject()
                default:
                    return .badRequest("\(path).content[\(k)] is not supported by provider kind bedrock.", code: "unsupported_value", param: "\(path).content[\(k)]")
                }
            }
        case .absent, .invalid:
            break
        }
        return nil
    }
}
