import TollgateCore

/// OpenAI Chat Completions request → Gemini `generateContent` request (Google AI Studio).
///
/// System messages become `systemInstruction`; user/assistant turns become `contents` with
/// roles `user`/`model`; text and images (data: URLs → `inlineData`) become parts; assistant
/// `tool_calls` become `functionCall` parts and `tool` messages `functionResponse` parts (named
/// after the call they answer); tools become `functionDeclarations`; `tool_choice` becomes
/// `toolConfig`; sampling fields go to `generationConfig`, JSON mode to `responseMimeType`.
/// Anything without a Gemini equivalent is refused with a 400 naming the field. Reads the
/// decoded `ChatRequest`, writes with `JSONBuilder`.
enum GeminiRequestTranslator {
    static let accepted: Set<String> = ["model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
                                        "temperature", "top_p", "stop", "tools", "tool_choice", "user", "n", "response_format",
                                        "presence_penalty", "frequency_penalty", "seed", "store", "metadata", "parallel_tool_calls"]

    /// Which top-level members of the generateContent body to write (Vertex's countTokens
    /// takes only the prompt's: contents, systemInstruction, tools).
    struct Sections: OptionSet {
        let rawValue: Int
        static let prompt = Sections(rawValue: 1)
        static let generation = Sections(rawValue: 2)
        static let all: Sections = [.prompt, .generation]
    }

    static func translate(_ request: ChatRequest) -> Result<[UInt8], GatewayError> {
        var b = JSONBuilder(capacity: request.body.readableBytes + 256)
        b.beginObject()
        if let error = request.withBytes({ write(request, $0, into: &b, sections: .all) }) { return .failure(error) }
        b.endObject()
        return .success(b.bytes)
    }

    /// Writes the members of the generateContent body into the open object `b`.
    static func write(_ request: ChatRequest, _ raw: UnsafeRawBufferPointer, into b: inout JSONBuilder, sections: Sections) -> GatewayError? {
        for member in request.members where !accepted.contains(member.name) && member.value.kind != .null {
            return .badRequest("The parameter '\(member.name)' is not supported by provider kind gemini and would be lost.",
                               code: "unsupported_parameter", param: member.name)
        }
        var generation = JSONBuilder()
        generation.beginObject()
        var hasGeneration = false
        func number(_ key: StaticString, _ n: ChatRequest.Number?) {
            guard let n else { return }
            generation.key(key)
            generation.raw(raw, n.literal)
            hasGeneration = true
        }
        if let n = request.maxTokens {
            generation.key("maxOutputTokens")
            generation.int(n)
            hasGeneration = true
        }
        number("temperature", request.temperature)
        number("topP", request.topP)
        if let n = request.n, n != 1 {
            generation.key("candidateCount")
            generation.int(n)
            hasGeneration = true
        }
        if let s = request.seed {
            generation.key("seed")
            generation.int(s)
            hasGeneration = true
        }
        number("presencePenalty", request.presencePenalty)
        number("frequencyPenalty", request.frequencyPenalty)
        if let stops = request.stop {
            generation.key("stopSequences")
            generation.beginArray()
            for s in stops { generation.string(s) }
            generation.endArray()
            hasGeneration = true
        }
        if let format = request.responseFormat {
            switch format.type {
            case "text": break
            case "json_object":
                generation.key("responseMimeType")
                generation.string("application/json")
                hasGeneration = true
            case "json_schema":
                generation.key("responseMimeType")
                generation.string("application/json")
                if let schema = format.schema {
                    generation.key("responseJsonSchema")
                    generation.raw(raw, schema.range)
                }
                hasGeneration = true
            default:
                return .badRequest("response_format type is not supported by provider kind gemini.", code: "unsupported_value", param: "response_format")
            }
        }
        generation.endObject()
        guard let messages = request.decodeMessages() else {
            return .badRequest("Missing required parameter: 'messages'.", code: "missing_messages", param: "messages")
        }
        var system: [Range<Int>] = []
        var callNames: [String: String] = [:]
        var contents = JSONBuilder(capacity: request.body.readableBytes)
        contents.beginArray()
        var turns = TurnWriter(contentKey: .parts)
        for (i, message) in messages.enumerated() {
            let path = "messages[\(i)]"
            switch message.role {
            case "system", "developer":
                system += message.textSpans.map(\.range)
            case "user":
                if let error = parts(message.content, raw, path: path, turns: &turns, b: &contents) { return error }
            case "assistant":
                if case .text(let s) = message.content, !s.isEmptyString {
                    turns.block("model", in: &contents)
                    contents.beginObject()
                    contents.key("text")
                    contents.raw(raw, s.range)
                    contents.endObject()
                }
                for (j, call) in message.toolCalls.enumerated() {
                    let name = call.name ?? ""
                    guard let args = ToolArguments.object(call.arguments) else {
                        return .badRequest("\(path).tool_calls[\(j)].function.arguments is not a JSON object.", code: "invalid_tool_arguments",
                                           param: "\(path).tool_calls[\(j)].function.arguments")
                    }
                    if let id = call.id { callNames[id] = name }
                    turns.block("model", in: &contents)
                    contents.beginObject()
                    contents.key("functionCall")
                    contents.beginObject()
                    contents.key("name")
                    contents.string(name)
                    contents.key("args")
                    contents.raw(args)
                    contents.endObject()
                    contents.endObject()
                }
            case "tool":
                let id = message.toolCallID ?? ""
                guard let name = callNames[id] else {
                    return .badRequest("\(path).tool_call_id '\(id)' does not answer a tool call earlier in the conversation.",
                                       code: "invalid_value", param: "\(path).tool_call_id")
                }
                turns.block("user", in: &contents)
                contents.beginObject()
                contents.key("functionResponse")
                contents.beginObject()
                contents.key("name")
                contents.string(name)
                contents.key("response")
                var text = ""
                if case .text(let s) = message.content { text = JSONMembers.string(raw, s) ?? "" }
                if let object = ToolArguments.object(text), !text.isEmpty {
                    contents.raw(object)
                } else {
                    contents.beginObject()
                    contents.key("result")
                    contents.string(text)
                    contents.endObject()
                }
                contents.endObject()
                contents.endObject()
            default:
                return .badRequest("\(path).role is not supported by provider kind gemini.", code: "unsupported_value", param: "\(path).role")
            }
        }
        turns.finish(in: &contents)
        contents.endArray()
        if sections.contains(.prompt) {
            b.key("contents")
            b.raw(contents.bytes)
            if !system.isEmpty {
                b.key("systemInstruction")
                b.beginObject()
                b.key("parts")
                b.beginArray()
                b.beginObject()
                b.key("text")
                b.joinedString(raw, system, separator: "\\n\\n")
                b.endObject()
                b.endArray()
                b.endObject()
            }
        }
        if sections.contains(.generation), hasGeneration {
            b.key("generationConfig")
            b.raw(generation.bytes)
        }
        if let tools = request.decodeTools() {
            var declarations = JSONBuilder()
            declarations.beginArray()
            for (i, tool) in tools.enumerated() {
                guard tool.type == "function", tool.hasFunction, let name = tool.name else {
                    return .badRequest("tools[\(i)] must be a function tool for provider kind gemini.", code: "unsupported_value", param: "tools[\(i)]")
                }
                declarations.beginObject()
                declarations.key("name")
                declarations.string(name)
                if let d = tool.description {
                    declarations.key("description")
                    declarations.raw(raw, d.range)
                }
                if let p = tool.parameters {
                    declarations.key("parametersJsonSchema")
                    declarations.raw(raw, p.range)
                }
                declarations.endObject()
            }
            declarations.endArray()
            if sections.contains(.prompt) {
                b.key("tools")
                b.beginArray()
                b.beginObject()
                b.key("functionDeclarations")
                b.raw(declarations.bytes)
                b.endObject()
                b.endArray()
            }
        }
        var config = JSONBuilder()
        switch request.toolChoice {
        case .mode(let s)?:
            let mode: StaticString
            switch s {
            case "auto": mode = "AUTO"
            case "required": mode = "ANY"
            case "none": mode = "NONE"
            default: return .badRequest("tool_choice '\(s)' is not supported.", code: "unsupported_value", param: "tool_choice")
            }
            config.beginObject()
            config.key("functionCallingConfig")
            config.beginObject()
            config.key("mode")
            config.string(mode)
            config.endObject()
            config.endObject()
        case .function(let name)?:
            guard let name else { return .badRequest("tool_choice must name a function.", code: "unsupported_value", param: "tool_choice") }
            config.beginObject()
            config.key("functionCallingConfig")
            config.beginObject()
            config.key("mode")
            config.string("ANY")
            config.key("allowedFunctionNames")
            config.beginArray()
            config.string(name)
            config.endArray()
            config.endObject()
            config.endObject()
        case .other?, nil:
            break
        }
        if sections.contains(.generation), !config.bytes.isEmpty {
            b.key("toolConfig")
            b.raw(config.bytes)
        }
        return nil
    }

    /// OpenAI user content → Gemini parts in the user turn (wrong types read as no parts).
    private static func parts(_ content: ChatMessage.Content, _ raw: UnsafeRawBufferPointer, path: String,
                              turns: inout TurnWriter, b: inout JSONBuilder) -> GatewayError? {
        switch content {
        case .text(let s):
            guard !s.isEmptyString else { return nil }
            turns.block("user", in: &b)
            b.beginObject()
            b.key("text")
            b.raw(raw, s.range)
            b.endObject()
        case .parts(let list):
            for (k, part) in list.enumerated() {
                switch part.type {
                case "text":
                    turns.block("user", in: &b)
                    b.beginObject()
                    b.key("text")
                    if let t = part.text { b.raw(raw, t.range) } else { b.string("") }
                    b.endObject()
                case "image_url":
                    guard let data = DataURL.split(part.imageURL ?? "") else {
                        return .badRequest("\(path).content[\(k)]: provider kind gemini takes images as data: URLs only.",
                                           code: "unsupported_value", param: "\(path).content[\(k)]")
                    }
                    turns.block("user", in: &b)
                    b.beginObject()
                    b.key("inlineData")
                    b.beginObject()
                    b.key("mimeType")
                    b.string(data.mediaType.map(String.init) ?? "image/png")
                    b.key("data")
                    b.string(String(data.data))
                    b.endObject()
                    b.endObject()
                default:
                    return .badRequest("\(path).content[\(k)] is not supported by provider kind gemini.", code: "unsupported_value", param: "\(path).content[\(k)]")
                }
            }
        case .absent, .invalid:
            break
        }
        return nil
    }
}
