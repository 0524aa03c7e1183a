import TollgateCore

/// One element of a `ChatRequest`'s `messages`, decoded when a translator needs the
/// conversation. Texts stay `JSONSpan`s (string literals in the body) and are written on as
/// they are; only the short fields translators branch on are decoded.
///
/// Fields of the wrong type read as absent, as the translators' `as?` casts did before;
/// translators decide what is an error (Anthropic refuses non-string, non-array content).
struct ChatMessage {
    var role: String?
    var content: Content = .absent
    var name: String?
    var toolCalls: [ToolCall] = []
    var toolCallID: String?

    enum Content {
        /// Missing or `null`.
        case absent
        /// A string literal.
        case text(JSONSpan)
        /// An array of part objects.
        case parts([Part])
        /// Another JSON type, or an array holding a non-object.
        case invalid
    }

    /// A content part: `text`, `image_url`, `input_audio`, `file`, … (only `type`, `text` and
    /// `image_url.url` are read; translators refuse the other types by name).
    struct Part {
        var type: String?
        /// `text`, when it is a string literal.
        var text: JSONSpan?
        /// `image_url.url`, decoded (a data: URL is split by the translators).
        var imageURL: String?
    }

    /// An assistant's `tool_calls` element.
    struct ToolCall {
        var id: String?
        var name: String?
        /// `function.arguments`, decoded: the JSON text of the call's input.
        var arguments: String?
    }

    /// The texts of a parts array that are string literals (for roles that take text only).
    var textSpans: [JSONSpan] {
        switch content {
        case .text(let s): return [s]
        case .parts(let parts): return parts.compactMap(\.text)
        case .absent, .invalid: return []
        }
    }
}

extension ChatRequest {
    /// The decoded `messages`, or nil when it is missing or not an array of objects.
    func decodeMessages() -> [ChatMessage]? {
        guard let span = messages else { return nil }
        return withBytes { raw in
            guard let elements = JSONMembers.array(raw, span) else { return nil }
            var out: [ChatMessage] = []
            out.reserveCapacity(elements.count)
            for element in elements {
                guard let index = JSONMembers.object(raw, JSONSpan(element)) else { return nil }
                out.append(Self.message(raw, index))
            }
            return out
        }
    }

    private static func message(_ raw: UnsafeRawBufferPointer, _ index: JSONObjectIndex) -> ChatMessage {
        var m = ChatMessage()
        for member in index.members {
            let span = JSONSpan(member)
            switch JSONMembers.key(member, raw) {
            case "role": m.role = JSONMembers.string(raw, span)
            case "name": m.name = JSONMembers.string(raw, span)
            case "tool_call_id": m.toolCallID = JSONMembers.string(raw, span)
            case "content": m.content = content(raw, span)
            case "tool_calls": m.toolCalls = toolCalls(raw, span)
            default: break
            }
        }
        return m
    }

    private static func content(_ raw: UnsafeRawBufferPointer, _ span: JSONSpan) -> ChatMessage.Content {
        switch span.kind {
        case .null: return .absent
        case .string: return .text(span)
        case .array:
            guard let elements = JSONMembers.array(raw, span) else { return .invalid }
            var parts: [ChatMessage.Part] = []
            parts.reserveCapacity(elements.count)
            for e in elements {
                guard let index = JSONMembers.object(raw, JSONSpan(e)) else { return .invalid }
                var part = ChatMessage.Part()
                for member in index.members {
                    let value = JSONSpan(member)
                    switch JSONMembers.key(member, raw) {
                    case "type": part.type = JSONMembers.string(raw, value)
                    case "text": part.text = value.kind == .string ? value : nil
                    case "image_url":
                        if let image = JSONMembers.object(raw, value), let url = image.members.last(where: { JSONMembers.key($0, raw) == "url" }) {
                            part.imageURL = JSONMembers.string(raw, JSONSpan(url))
                        }
                    default: break
                    }
                }
                parts.append(part)
            }
            return .parts(parts)
        default:
            return .invalid
        }
    }

    /// `tool_calls`; empty unless it is an array of objects (as `as? [[String: Any]] ?? []`).
    private static func toolCalls(_ raw: UnsafeRawBufferPointer, _ span: JSONSpan) -> [ChatMessage.ToolCall] {
        guard let elements = JSONMembers.array(raw, span) else { return [] }
        var out: [ChatMessage.ToolCall] = []
        for e in elements {
            guard let index = JSONMembers.object(raw, JSONSpan(e)) else { return [] }
            var call = ChatMessage.ToolCall()
            for member in index.members {
                switch JSONMembers.key(member, raw) {
                case "id": call.id = JSONMembers.string(raw, JSONSpan(member))
                case "function":
                    guard let fn = JSONMembers.object(raw, JSONSpan(member)) else { continue }
                    for f in fn.members {
                        switch JSONMembers.key(f, raw) {
                        case "name": call.name = JSONMembers.string(raw, JSONSpan(f))
                        case "arguments": call.arguments = JSONMembers.string(raw, JSONSpan(f))
                        default: break
                        }
                    }
                default: break
                }
            }
            out.append(call)
        }
        return out
    }
}
