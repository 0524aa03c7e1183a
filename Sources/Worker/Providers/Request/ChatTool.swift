import TollgateCore

/// One element of a `ChatRequest`'s `tools`: a function tool's name, description and
/// parameter schema (a span, spliced into the upstream body as the client wrote it).
struct ChatTool {
    var type: String?
    /// Whether `function` is an object (a function tool without one is refused).
    var hasFunction = false
    var name: String?
    /// `function.description`, when it is a string literal.
    var description: JSONSpan?
    /// `function.parameters`, any JSON value (`null` included), when present.
    var parameters: JSONSpan?
}

extension ChatRequest {
    /// The decoded `tools`, or nil when absent or not an array of objects.
    func decodeTools() -> [ChatTool]? {
        guard let span = tools else { return nil }
        return withBytes { raw in
            guard let elements = JSONMembers.array(raw, span) else { return nil }
            var out: [ChatTool] = []
            out.reserveCapacity(elements.count)
            for e in elements {
                guard let index = JSONMembers.object(raw, JSONSpan(e)) else { return nil }
                var tool = ChatTool()
                for member in index.members {
                    switch JSONMembers.key(member, raw) {
                    case "type": tool.type = JSONMembers.string(raw, JSONSpan(member))
                    case "function":
                        guard let fn = JSONMembers.object(raw, JSONSpan(member)) else { continue }
                        tool.hasFunction = true
                        for f in fn.members {
                            let value = JSONSpan(f)
                            switch JSONMembers.key(f, raw) {
                            case "name": tool.name = JSONMembers.string(raw, value)
                            case "description": tool.description = value.kind == .string ? value : nil
                            case "parameters": tool.parameters = value
                            default: break
                            }
                        }
                    default: break
                    }
                }
                out.append(tool)
            }
            return out
        }
    }
}
