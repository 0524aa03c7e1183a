import TollgateCore

/// The JSON shapes whose text the guardrails read, and where that text lives in each: every
/// string the provider turns into model input (requests) or the client receives as model
/// output (responses). The field lists are in docs/security.md ("Guardrails"); the table tests
/// in GuardrailWalkerTests fail when a text field of a front is not visited.
public enum GuardrailDocument: Sendable {
    /// OpenAI chat request: `messages[*]` `content` (string or `parts[*].text`), `name`,
    /// `refusal`, `tool_calls[*].function.{name,arguments}`, legacy `function_call`;
    /// `tools[*].function` and legacy `functions[*]` (`name`, `description`, every string of
    /// `parameters`); `response_format.json_schema` (`name`, `description`, every string of
    /// `schema`); `prediction.content`; `user`.
    case openAIChatRequest
    /// OpenAI embeddings request: `input` (string or array of strings; token arrays skipped),
    /// `user`.
    case openAIEmbeddingsRequest
    /// Anthropic Messages request: `system` (string or `blocks[*].text`), `messages[*].content`
    /// (string or blocks: `text`, `thinking`, `tool_use` name and every string of `input`,
    /// `tool_result` content, `document` title/context and text/content sources,
    /// `search_result`), `tools[*]` (`name`, `description`, every string of `input_schema`).
    case anthropicMessagesRequest
    /// OpenAI chat response: `choices[*].message` `content`, `refusal`, tool call and legacy
    /// function call names and arguments, `audio.transcript`.
    case openAIChatResponse
    /// Anthropic Messages response: `content[*]` `text`, `thinking`, `tool_use` name and every
    /// string of `input`.
    case anthropicMessagesResponse
    /// One Anthropic stream event's `content_block` (`content_block_start`): text, thinking,
    /// tool name and input a hostile upstream can put there instead of in deltas.
    case anthropicContentBlockStart

    /// Byte ranges (quotes included) of every string value to inspect, in document order.
    /// A body that is not a JSON object yields none (the parsing filter refuses it anyway).
    public func textFields(in body: UnsafeRawBufferPointer) -> [Range<Int>] {
        classifiedTextFields(in: body).map(\.range)
    }

    /// The same fields, each marked as tool output (`tool`/`function` messages, Anthropic
    /// `tool_result` blocks), which prompt-attack detection treats as documents rather than
    /// as what the user typed.
    public func classifiedTextFields(in body: UnsafeRawBufferPointer) -> [(range: Range<Int>, isToolOutput: Bool)] {
        // The one full validation; the walk below only skims the levels it enters.
        guard let index = try? JSONScanner.scanObject(body) else { return [] }
        let top = JSONSkim.Object(index)
        var walker = TextFieldWalker(body: body)
        switch self {
        case .openAIChatRequest:
            walker.openAIMessages(top.member("messages", in: body))
            walker.openAITools(top.member("tools", in: body), legacy: top.member("functions", in: body))
            if let format = top.member("response_format", in: body), let f = walker.object(format),
               let schema = f.member("json_schema", in: body), let s = walker.object(schema) {
                walker.string(s.member("name", in: body))
                walker.string(s.member("description", in: body))
                walker.allStrings(s.member("schema", in: body))
            }
            if let prediction = top.member("prediction", in: body), let p = walker.object(prediction),
               let content = p.member("content", in: body) {
                walker.content(content.value, content.kind)
            }
            walker.string(top.member("user", in: body))
        case .openAIEmbeddingsRequest:
            if let input = top.member("input", in: body) { walker.stringOrStrings(input.value, input.kind) }
            walker.string(top.member("user", in: body))
        case .anthropicMessagesRequest:
            if let system = top.member("system", in: body) { walker.content(system.value, system.kind) }
            walker.anthropicMessages(top.member("messages", in: body))
            walker.anthropicTools(top.member("tools", in: body))
        case .openAIChatResponse:
            if let choices = top.member("choices", in: body), choices.kind == .array {
                for choice in walker.elements(choices.value) where choice.kind == .object {
                    guard let obj = walker.object(choice.value) else { continue }
                    if let message = obj.member("message", in: body), message.kind == .object { walker.openAIMessage(message.value) }
                }
            }
        case .anthropicMessagesResponse:
            if let content = top.member("content", in: body) { walker.content(content.value, content.kind) }
        case .anthropicContentBlockStart:
            if let block = top.member("content_block", in: body), let b = walker.object(block) { walker.block(b, depth: 0) }
        }
        return walker.fields
    }
}
