import TollgateCore

/// The JSON shapes whose text the guardrails read, and where that text lives in each.
public enum GuardrailDocument: Sendable {
    /// OpenAI chat request: `messages[*].content` (string or `parts[*].text`),
    /// `messages[*].tool_calls[*].function.arguments`, legacy `function_call.arguments`.
    case openAIChatRequest
    /// OpenAI embeddings request: `input` (string or array of strings; token arrays skipped).
    case openAIEmbeddingsRequest
    /// Anthropic Messages request: `system` (string or `blocks[*].text`), `messages[*].content`
    /// (string or `blocks[*].text`, `tool_result` blocks' `content` included).
    case anthropicMessagesRequest
    /// OpenAI chat response: `choices[*].message.content` and tool call arguments.
    case openAIChatResponse
    /// Anthropic Messages response: `content[*].text`.
    case anthropicMessagesResponse

    /// Byte ranges (quotes included) of every string value to inspect, in document order.
    /// A body that is not a JSON object yields none (the parsing filter refuses it anyway).
    public func textFields(in body: UnsafeRawBufferPointer) -> [Range<Int>] {
        classifiedTextFields(in: body).map(\.range)
    }

    /// The same fields, each marked as tool output (`tool`/`function` messages, Anthropic
    /// `tool_result` blocks), which prompt-attack detection treats as documents rather than
    /// as what the user typed.
    public func classifiedTextFields(in body: UnsafeRawBufferPointer) -> [(range: Range<Int>, isToolOutput: Bool)] {
        guard let top = try? JSONScanner.scanObject(body) else { return [] }
        var walker = TextFieldWalker(body: body)
        switch self {
        case .openAIChatRequest:
            walker.messages(top.member("messages", in: body), content: "content")
        case .openAIEmbeddingsRequest:
            if let input = top.member("input", in: body) { walker.stringOrStrings(input.value, input.kind) }
        case .anthropicMessagesRequest:
            if let system = top.member("system", in: body) { walker.content(system.value, system.kind) }
            walker.messages(top.member("messages", in: body), content: "content")
        case .openAIChatResponse:
            if let choices = top.member("choices", in: body), choices.kind == .array {
                for choice in walker.elements(choices.value) where choice.kind == .object {
                    guard let obj = walker.object(choice.value) else { continue }
                    if let message = obj.member("message", in: body), message.kind == .object { walker.message(message.value) }
                }
            }
        case .anthropicMessagesResponse:
            if let content = top.member("content", in: body) { walker.content(content.value, content.kind) }
        }
        return walker.fields
    }
}

/// Collects string ranges while walking the document shapes above.
struct TextFieldWalker {
    let body: UnsafeRawBufferPointer
    var fields: [(range: Range<Int>, isToolOutput: Bool)] = []
    /// Set while walking a tool message or a `tool_result` block.
    var inToolOutput = false

    init(body: UnsafeRawBufferPointer) {
        self.body = body
    }

    func object(_ range: Range<Int>) -> JSONObjectIndex? {
        try? JSONScanner.scanObject(body, in: range)
    }

    func elements(_ range: Range<Int>) -> [JSONScanner.ArrayElement] {
        (try? JSONScanner.scanArray(body, in: range)) ?? []
    }

    mutating func messages(_ member: JSONObjectIndex.Member?, content: String) {
        guard let member, member.kind == .array else { return }
        for m in elements(member.value) where m.kind == .object {
            message(m.value)
        }
    }

    mutating func message(_ range: Range<Int>) {
        guard let obj = object(range) else { return }
        let role = obj.string("role", in: body)
        inToolOutput = role == "tool" || role == "function"
        defer { inToolOutput = false }
        if let content = obj.member("content", in: body) { self.content(content.value, content.kind) }
        if let calls = obj.member("tool_calls", in: body), calls.kind == .array {
            for call in elements(calls.value) where call.kind == .object {
                guard let c = object(call.value), let fn = c.member("function", in: body), fn.kind == .object else { continue }
                arguments(fn.value)
            }
        }
        if let fn = obj.member("function_call", in: body), fn.kind == .object { arguments(fn.value) }
    }

    mutating func arguments(_ range: Range<Int>) {
        guard let fn = object(range), let args = fn.member("arguments", in: body), args.kind == .string else { return }
        fields.append((args.value, inToolOutput))
    }

    /// A string, or an array of content blocks/parts whose `text` (and, for `tool_result`,
    /// nested `content`) is read.
    mutating func content(_ range: Range<Int>, _ kind: JSONValueKind, depth: Int = 0) {
        switch kind {
        case .string:
            fields.append((range, inToolOutput))
        case .array:
            for block in elements(range) where block.kind == .object {
                guard let obj = object(block.value) else { continue }
                if let text = obj.member("text", in: body), text.kind == .string { fields.append((text.value, inToolOutput)) }
                if depth == 0, let nested = obj.member("content", in: body) {
                    let outer = inToolOutput
                    inToolOutput = outer || obj.string("type", in: body) == "tool_result"
                    content(nested.value, nested.kind, depth: 1)
                    inToolOutput = outer
                }
            }
        default:
            return
        }
    }

    mutating func stringOrStrings(_ range: Range<Int>, _ kind: JSONValueKind) {
        if kind == .string {
            fields.append((range, false))
        } else if kind == .array {
            for e in elements(range) where e.kind == .string { fields.append((e.value, false)) }
        }
    }
}
