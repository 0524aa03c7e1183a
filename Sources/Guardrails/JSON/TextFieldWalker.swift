import TollgateCore

/// Collects the string ranges of the shapes `GuardrailDocument` describes. Each subtree is
/// skimmed (`JSONSkim`) once per level it is walked into (the shapes are at most a few levels deep), and
/// free-form subtrees (JSON schemas, tool inputs) are lexed once, so a walk is linear in the
/// body.
struct TextFieldWalker {
    let body: UnsafeRawBufferPointer
    var fields: [(range: Range<Int>, isToolOutput: Bool)] = []
    /// Set while walking a tool message or a `tool_result` block.
    var inToolOutput = false

    init(body: UnsafeRawBufferPointer) {
        self.body = body
    }

    // The body was validated as a whole before the walk starts (`GuardrailDocument`), so
    // nested levels are skimmed, not validated again.
    func object(_ range: Range<Int>) -> JSONSkim.Object? {
        JSONSkim.object(body, range)
    }

    func object(_ member: JSONSkim.Member) -> JSONSkim.Object? {
        member.kind == .object ? object(member.value) : nil
    }

    func elements(_ range: Range<Int>) -> [JSONSkim.Element] {
        JSONSkim.elements(body, range)
    }

    /// The member's value when it is a string.
    mutating func string(_ member: JSONSkim.Member?) {
        guard let member, member.kind == .string else { return }
        fields.append((member.value, inToolOutput))
    }

    // MARK: - OpenAI

    mutating func openAIMessages(_ member: JSONSkim.Member?) {
        guard let member, member.kind == .array else { return }
        for m in elements(member.value) where m.kind == .object {
            openAIMessage(m.value)
        }
    }

    mutating func openAIMessage(_ range: Range<Int>) {
        guard let obj = object(range) else { return }
        let role = obj.string("role", in: body)
        inToolOutput = role == "tool" || role == "function"
        defer { inToolOutput = false }
        string(obj.member("name", in: body))
        if let content = obj.member("content", in: body) { self.content(content.value, content.kind) }
        string(obj.member("refusal", in: body))
        if let audio = obj.member("audio", in: body), let a = object(audio) { string(a.member("transcript", in: body)) }
        if let calls = obj.member("tool_calls", in: body), calls.kind == .array {
            for call in elements(calls.value) where call.kind == .object {
                guard let c = object(call.value), let fn = c.member("function", in: body), fn.kind == .object else { continue }
                functionCall(fn.value)
            }
        }
        if let fn = obj.member("function_call", in: body), fn.kind == .object { functionCall(fn.value) }
    }

    mutating func functionCall(_ range: Range<Int>) {
        guard let fn = object(range) else { return }
        string(fn.member("name", in: body))
        string(fn.member("arguments", in: body))
    }

    /// `tools[*].function` (and `tools[*].custom`) and legacy `functions[*]`: what the model
    /// reads to decide how to call them.
    mutating func openAITools(_ tools: JSONSkim.Member?, legacy: JSONSkim.Member?) {
        if let tools, tools.kind == .array {
            for tool in elements(tools.value) where tool.kind == .object {
                guard let t = object(tool.value) else { continue }
                for key: StaticString in ["function", "custom"] {
                    if let fn = t.member(key, in: body), let f = object(fn) { functionDefinition(f) }
                }
            }
        }
        if let legacy, legacy.kind == .array {
            for fn in elements(legacy.value) where fn.kind == .object {
                if let f = object(fn.value) { functionDefinition(f) }
            }
        }
    }

    mutating func functionDefinition(_ f: JSONSkim.Object) {
        string(f.member("name", in: body))
        string(f.member("description", in: body))
        allStrings(f.member("parameters", in: body))
        allStrings(f.member("format", in: body))
    }

    // MARK: - Anthropic

    mutating func anthropicMessages(_ member: JSONSkim.Member?) {
        guard let member, member.kind == .array else { return }
        for m in elements(member.value) where m.kind == .object {
            guard let obj = object(m.value), let content = obj.member("content", in: body) else { continue }
            self.content(content.value, content.kind)
        }
    }

    mutating func anthropicTools(_ member: JSONSkim.Member?) {
        guard let member, member.kind == .array else { return }
        for tool in elements(member.value) where tool.kind == .object {
            guard let t = object(tool.value) else { continue }
            string(t.member("name", in: body))
            string(t.member("description", in: body))
            allStrings(t.member("input_schema", in: body))
        }
    }

    // MARK: - Content

    /// A string, or an array of content blocks/parts: `text`, `thinking`, tool calls' name
    /// and input, tool results' nested content, documents and search results.
    mutating func content(_ range: Range<Int>, _ kind: JSONValueKind, depth: Int = 0) {
        switch kind {
        case .string:
            fields.append((range, inToolOutput))
        case .array:
            for block in elements(range) where block.kind == .object {
                guard let obj = object(block.value) else { continue }
                self.block(obj, depth: depth)
            }
        default:
            return
        }
    }

    mutating func block(_ obj: JSONSkim.Object, depth: Int) {
        let type = obj.string("type", in: body)
        string(obj.member("text", in: body))
        string(obj.member("thinking", in: body))
        string(obj.member("refusal", in: body))
        switch type {
        case "tool_use", "server_tool_use":
            string(obj.member("name", in: body))
            allStrings(obj.member("input", in: body))
        case "document", "search_result":
            string(obj.member("title", in: body))
            string(obj.member("context", in: body))
            if let source = obj.member("source", in: body) {
                if source.kind == .string {
                    fields.append((source.value, inToolOutput))   // search_result: a URL/name the model reads
                } else if let s = object(source) {
                    // Plain-text documents carry their text in `data`; base64 PDFs and URLs are
                    // not text the gateway can read.
                    if s.string("type", in: body) == "text" { string(s.member("data", in: body)) }
                    if depth < 2, let nested = s.member("content", in: body) { content(nested.value, nested.kind, depth: depth + 1) }
                }
            }
        default:
            break
        }
        if depth < 2, let nested = obj.member("content", in: body) {
            let outer = inToolOutput
            inToolOutput = outer || type == "tool_result" || type == "web_search_tool_result"
            content(nested.value, nested.kind, depth: depth + 1)
            inToolOutput = outer
        }
    }

    mutating func stringOrStrings(_ range: Range<Int>, _ kind: JSONValueKind) {
        if kind == .string {
            fields.append((range, false))
        } else if kind == .array {
            for e in elements(range) where e.kind == .string { fields.append((e.value, false)) }
        }
    }

    /// Every string in a free-form subtree (a JSON schema, a tool input), object keys
    /// included: a schema's property names and a tool input's keys are read by the model too.
    /// One linear lex; the body was validated by the top-level scan, so the subtree is JSON.
    mutating func allStrings(_ member: JSONSkim.Member?) {
        guard let member else { return }
        if member.kind == .string {
            fields.append((member.value, inToolOutput))
            return
        }
        guard member.kind == .object || member.kind == .array else { return }
        var i = member.value.lowerBound
        let end = member.value.upperBound
        while i < end {
            guard body[i] == UInt8(ascii: "\"") else {
                i += 1
                continue
            }
            let (after, _) = JSONSkim.skipString(body, i, end)
            guard after <= end else { return }
            fields.append((i..<after, inToolOutput))
            i = after
        }
    }
}
