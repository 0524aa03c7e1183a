/// What the mock needs from a `POST /v1/chat/completions` body, read in one pass with
/// `JSONView` and validated the way OpenAI validates it (same messages, `param` and `code`).
///
/// `promptTokens` is a deterministic estimate in the spirit of tiktoken's chat accounting:
/// 3 tokens per message plus its content (one per 4 bytes of text, 85 per image), 3 to prime
/// the reply, and the tool definitions at one token per 4 bytes.
struct ChatCompletionRequest: Equatable {
    var model: String
    var stream = false
    var includeUsage = false
    var includeObfuscation = true
    /// `max_completion_tokens`, else `max_tokens`.
    var maxTokens: Int?
    var promptTokens = 3
    var messageCount = 0
    /// The `content` of the last user message (for echo).
    var lastUserContent: JSONValue?
    /// The name of the first function in `tools`.
    var firstToolName: String?

    static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool", "function"]

    /// Parses `view`'s document; `defaultModel` stands in for a missing `model` (Azure OpenAI
    /// names the deployment in the URL instead).
    static func parse(_ view: JSONView, defaultModel: String? = nil) throws(OpenAIError) -> ChatCompletionRequest {
        let root = try view.openAIRoot()
        var request = ChatCompletionRequest(model: try view.openAIModel(of: root, defaultModel: defaultModel))
        guard let messages = view.member("messages", of: root) else { throw OpenAIError.missing("messages") }
        guard messages.kind == .array else { throw OpenAIError.invalidType("messages", expected: "an array", got: messages) }
        var failure: OpenAIError?
        view.forEachElement(messages) { element in
            guard failure == nil else { return }
            let index = request.messageCount
            request.messageCount += 1
            do throws(OpenAIError) {
                try request.addMessage(element, index: index, view)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        guard request.messageCount > 0 else {
            throw OpenAIError.invalidRequest("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                                             param: "messages", code: "empty_array")
        }
        if let stream = view.member("stream", of: root), stream.kind != .null {
            guard let flag = view.bool(stream) else { throw OpenAIError.invalidType("stream", expected: "a boolean", got: stream) }
            request.stream = flag
        }
        if let options = view.member("stream_options", of: root), options.kind != .null {
            guard let object = view.object(options) else { throw OpenAIError.invalidType("stream_options", expected: "an object", got: options) }
            request.includeUsage = view.bool(view.member("include_usage", of: object)) ?? false
            request.includeObfuscation = view.bool(view.member("include_obfuscation", of: object)) ?? true
        }
        for name in ["max_completion_tokens", "max_tokens"] where request.maxTokens == nil {
            guard let value = view.member(name, of: root), value.kind != .null else { continue }
            guard let n = view.int(value) else { throw OpenAIError.invalidType(name, expected: "an integer", got: value) }
            guard n >= 1 else { throw OpenAIError.belowMinimum(name, minimum: 1, got: n) }
            request.maxTokens = n
        }
        if let tools = view.member("tools", of: root), tools.kind == .array {
            request.promptTokens += MockText.estimatedTokens(byteCount: tools.range.count)
            var first: JSONValue?
            view.forEachElement(tools) { tool in if first == nil { first = tool } }
            let function = view.object(view.member("function", of: view.object(first)))
            request.firstToolName = view.string(view.member("name", of: function))
        }
        return request
    }

    private mutating func addMessage(_ element: JSONValue, index: Int, _ view: JSONView) throws(OpenAIError) {
        let param = "messages[\(index)]"
        guard let message = view.object(element) else { throw OpenAIError.invalidType(param, expected: "an object", got: element) }
        guard let role = view.member("role", of: message) else { throw OpenAIError.missing(param + ".role") }
        guard let roleName = view.string(role) else { throw OpenAIError.invalidType(param + ".role", expected: "a string", got: role) }
        guard Self.roles.contains(roleName) else {
            throw OpenAIError.invalidRequest("Invalid value: '\(roleName)'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.",
                                             param: param + ".role", code: "invalid_value")
        }
        let content = view.member("content", of: message)
        promptTokens += 3 + Self.contentTokens(content, view)
        if view.member("name", of: message) != nil { promptTokens += 1 }
        if let calls = view.member("tool_calls", of: message) {
            promptTokens += MockText.estimatedTokens(byteCount: calls.range.count)
        }
        if roleName == "user" { lastUserContent = content }
    }

    /// Tokens of a message's `content`: a string, or an array of parts.
    static func contentTokens(_ content: JSONValue?, _ view: JSONView) -> Int {
        guard let content else { return 0 }
        switch content.kind {
        case .string:
            return MockText.estimatedTokens(byteCount: view.rawStringLength(content))
        case .array:
            var tokens = 0
            view.forEachElement(content) { part in
                let object = view.object(part)
                switch view.string(view.member("type", of: object)) {
                case "text":
                    if let text = view.member("text", of: object) { tokens += MockText.estimatedTokens(byteCount: view.rawStringLength(text)) }
                case "image_url":
                    tokens += 85
                default:
                    tokens += MockText.estimatedTokens(byteCount: part.range.count)
                }
            }
            return tokens
        case .null:
            return 0
        case .object, .number, .bool:
            return MockText.estimatedTokens(byteCount: content.range.count)
        }
    }

    /// The text of the last user message: its string content, or its text parts joined by
    /// spaces. Empty when there is none.
    func lastUserText(_ view: JSONView) -> String {
        view.string(lastUserContent) ?? view.joinedText(of: lastUserContent, typed: true)
    }
}
