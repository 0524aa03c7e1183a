import Foundation
import NIOCore
import TollgateCore

/// Anthropic Messages request (the `/v1/messages` front) → OpenAI Chat Completions request,
/// so Claude Code and the Anthropic SDKs can be routed to OpenAI-family backends.
///
/// `system` becomes a system message; text and image blocks become content parts; an
/// assistant's `tool_use` blocks become `tool_calls`; a user's `tool_result` blocks become
/// `tool` messages (placed first, right after the assistant turn that called them); tools,
/// `tool_choice`, `stop_sequences`, `metadata.user_id` map to their OpenAI forms. Prior-turn
/// `thinking` blocks are left out of the history (no OpenAI equivalent exists and they carry no
/// instruction); anything else without an equivalent (`top_k`, `thinking` enabled, server
/// tools, PDF/image/URL documents) is refused with a 400 naming it; plain-text `document`
/// blocks become text parts.
///
/// Read with `JSONScanner` (texts stay spans of the client's body and are copied as they are),
/// written with `JSONBuilder`; the result is decoded as a `ChatRequest` by the providers that
/// translate further (Gemini, Vertex, Bedrock).
enum AnthropicToOpenAIRequest {
    static let accepted: Set<String> = ["model", "messages", "system", "max_tokens", "stream", "temperature", "top_p",
                                        "stop_sequences", "tools", "tool_choice", "metadata"]

    static func translate(_ body: ByteBuffer, upstreamModel: String) -> Result<[UInt8], GatewayError> {
        body.withUnsafeReadableBytes { raw in
            guard let index = try? JSONScanner.scanObject(raw) else {
                return .failure(.badRequest("The request body is not a JSON object.", code: "invalid_json"))
            }
            return translate(raw, index, upstreamModel: upstreamModel)
        }
    }

    static func translate(_ body: [UInt8], upstreamModel: String) -> Result<[UInt8], GatewayError> {
        translate(ByteBuffer(bytes: body), upstreamModel: upstreamModel)
    }

    /// A text of the translated request: a string literal of the client's body, or one the
    /// gateway decoded or built (document texts).
    enum Text {
        case span(Range<Int>)
        case string(String)
    }

    private enum UserPart {
        case text(Text)
        case image(String)
    }

    private static func translate(_ raw: UnsafeRawBufferPointer, _ index: JSONObjectIndex, upstreamModel: String) -> Result<[UInt8], GatewayError> {
        var top: [String: JSONSpan] = [:]
        for m in index.members {
            let name = JSONMembers.key(m, raw)
            let span = JSONSpan(m)
            top[name] = span
            guard !accepted.contains(name), m.kind != .null else { continue }
            if name == "thinking", let t = JSONMembers.object(raw, span), string(raw, t, "type") == "disabled" { continue }
            return .failure(.badRequest("'\(name)' has no equivalent on this model's OpenAI-compatible backend; remove it or route the model to an Anthropic provider.",
                                        code: "unsupported_parameter", param: name))
        }
        guard let maxTokens = JSONMembers.int(raw, top["max_tokens"]) else {
            return .failure(.badRequest("max_tokens: Field required", code: "missing_max_tokens", param: "max_tokens"))
        }
        var b = JSONBuilder(capacity: raw.count + 256)
        b.beginObject()
        b.key("model")
        b.string(upstreamModel)
        b.key("max_tokens")
        b.int(maxTokens)
        if let t = top["temperature"], t.kind == .number {
            b.key("temperature")
            b.raw(raw, t.range)
        }
        if let p = top["top_p"], p.kind == .number {
            b.key("top_p")
            b.raw(raw, p.range)
        }
        if let stops = top["stop_sequences"], let elements = JSONMembers.array(raw, stops), !elements.isEmpty, elements.allSatisfy({ $0.kind == .string }) {
            b.key("stop")
            b.raw(raw, stops.range)
        }
        if let metadata = top["metadata"].flatMap({ JSONMembers.object(raw, $0) }), let user = member(raw, metadata, "user_id"), user.kind == .string {
            b.key("user")
            b.raw(raw, user.range)
        }
        if JSONMembers.bool(raw, top["stream"]) == true {
            b.key("stream")
            b.bool(true)
            b.key("stream_options")
            b.raw(#"{"include_usage":true}"#.utf8)
        }
        b.key("messages")
        b.beginArray()
        if let system = top["system"] {
            if system.kind == .string, !system.isEmptyString {
                b.beginObject()
                b.key("role")
                b.string("system")
                b.key("content")
                b.raw(raw, system.range)
                b.endObject()
            } else if let blocks = objects(raw, system) {
                let texts = blocks.compactMap { member(raw, $0, "text") }.filter { $0.kind == .string }.map(\.range)
                if texts.contains(where: { $0.count > 2 }) {
                    b.beginObject()
                    b.key("role")
                    b.string("system")
                    b.key("content")
                    b.joinedString(raw, texts, separator: "\\n\\n")
                    b.endObject()
                }
            }
        }
        guard let turnsSpan = top["messages"], let turns = objects(raw, turnsSpan) else {
            return .failure(.badRequest("messages: Field required", code: "missing_messages", param: "messages"))
        }
        for (i, turn) in turns.enumerated() {
            let path = "messages[\(i)]"
            let role = string(raw, turn, "role") ?? ""
            let blocks: [JSONObjectIndex]
            let content = member(raw, turn, "content")
            if let content, content.kind == .string {
                blocks = []
            } else if let content, let list = objects(raw, content) {
                blocks = list
            } else {
                return .failure(.badRequest("\(path).content must be a string or a list of content blocks.", code: "invalid_value", param: "\(path).content"))
            }
            let plainText = content.flatMap { $0.kind == .string ? $0.range : nil }
            switch role {
            case "user":
                var parts: [UserPart] = plainText.map { [UserPart.text(.span($0))] } ?? []
                for (k, block) in blocks.enumerated() {
                    let type = string(raw, block, "type")
                    switch type {
                    case "text":
                        parts.append(.text(textOf(raw, block)))
                    case "image":
                        let source = member(raw, block, "source").flatMap { JSONMembers.object(raw, $0) }
                        let url: String
                        if let source, string(raw, source, "type") == "base64" {
                            url = "data:\(string(raw, source, "media_type") ?? "image/png");base64,\(string(raw, source, "data") ?? "")"
                        } else {
                            url = source.flatMap { string(raw, $0, "url") } ?? ""
                        }
                        parts.append(.image(url))
                    case "document":
                        switch documentText(raw, block) {
                        case .success(let text): parts.append(.text(.string(text)))
                        case .failure(let reason):
                            return .failure(.badRequest("\(path).content[\(k)]: \(reason) has no equivalent on this model's OpenAI-compatible backend; send the document as text or route the model to an Anthropic provider.",
                                                        code: "unsupported_value", param: "\(path).content[\(k)]"))
                        }
                    case "tool_result":
                        writeToolResult(raw, block, &b)
                    default:
                        return .failure(unsupported("\(path).content[\(k)]", type))
                    }
                }
                if !parts.isEmpty { writeUser(raw, parts, &b) }
            case "assistant":
                var texts: [Range<Int>] = plainText.map { [$0] } ?? []
                var calls = JSONBuilder()
                calls.beginArray()
                var callCount = 0
                for (k, block) in blocks.enumerated() {
                    let type = string(raw, block, "type")
                    switch type {
                    case "text":
                        if let t = member(raw, block, "text"), t.kind == .string { texts.append(t.range) }
                    case "tool_use":
                        callCount += 1
                        calls.beginObject()
                        calls.key("id")
                        calls.string(string(raw, block, "id") ?? "")
                        calls.key("type")
                        calls.string("function")
                        calls.key("function")
                        calls.beginObject()
                        calls.key("name")
                        calls.string(string(raw, block, "name") ?? "")
                        calls.key("arguments")
                        if let input = member(raw, block, "input"), input.kind == .object || input.kind == .array {
                            calls.string(String(decoding: UnsafeRawBufferPointer(rebasing: raw[input.range]), as: UTF8.self))
                        } else {
                            calls.string("{}")
                        }
                        calls.endObject()
                        calls.endObject()
                    case "thinking", "redacted_thinking":
                        continue
                    default:
                        return .failure(unsupported("\(path).content[\(k)]", type))
                    }
                }
                calls.endArray()
                b.beginObject()
                b.key("role")
                b.string("assistant")
                b.key("content")
                if texts.allSatisfy({ $0.count <= 2 }) && callCount > 0 { b.null() } else { b.joinedString(raw, texts, separator: "") }
                if callCount > 0 {
                    b.key("tool_calls")
                    b.raw(calls.bytes)
                }
                b.endObject()
            default:
                return .failure(.badRequest("\(path).role must be user or assistant.", code: "invalid_value", param: "\(path).role"))
            }
        }
        b.endArray()
        if let tools = top["tools"].flatMap({ objects(raw, $0) }) {
            b.key("tools")
            b.beginArray()
            for (i, tool) in tools.enumerated() {
                if let type = string(raw, tool, "type"), type != "custom" {
                    return .failure(unsupported("tools[\(i)]", type))
                }
                b.beginObject()
                b.key("type")
                b.string("function")
                b.key("function")
                b.beginObject()
                b.key("name")
                b.string(string(raw, tool, "name") ?? "")
                b.key("parameters")
                if let schema = member(raw, tool, "input_schema"), schema.kind == .object { b.raw(raw, schema.range) } else { b.raw(#"{"type":"object"}"#.utf8) }
                if let d = member(raw, tool, "description"), d.kind == .string {
                    b.key("description")
                    b.raw(raw, d.range)
                }
                b.endObject()
                b.endObject()
            }
            b.endArray()
        }
        if let choice = top["tool_choice"].flatMap({ JSONMembers.object(raw, $0) }) {
            let type = string(raw, choice, "type")
            b.key("tool_choice")
            switch type {
            case "auto": b.string("auto")
            case "any": b.string("required")
            case "none": b.string("none")
            case "tool":
                b.beginObject()
                b.key("type")
                b.string("function")
                b.key("function")
                b.beginObject()
                b.key("name")
                b.string(string(raw, choice, "name") ?? "")
                b.endObject()
                b.endObject()
            default: return .failure(unsupported("tool_choice", type))
            }
            if JSONMembers.bool(raw, member(raw, choice, "disable_parallel_tool_use")) == true {
                b.key("parallel_tool_calls")
                b.bool(false)
            }
        }
        b.endObject()
        return .success(b.bytes)
    }

    /// A user turn's parts: one string when all are text (joined by newlines), else parts.
    private static func writeUser(_ raw: UnsafeRawBufferPointer, _ parts: [UserPart], _ b: inout JSONBuilder) {
        b.beginObject()
        b.key("role")
        b.string("user")
        b.key("content")
        let onlyText = parts.allSatisfy { if case .text = $0 { return true } else { return false } }
        if onlyText {
            b.beginString()
            for (i, part) in parts.enumerated() {
                if i > 0 { b.stringPiece(escaped: "\\n") }
                if case .text(let t) = part { piece(raw, t, &b) }
            }
            b.endString()
        } else {
            b.beginArray()
            for part in parts {
                b.beginObject()
                switch part {
                case .text(let t):
                    b.key("type")
                    b.string("text")
                    b.key("text")
                    b.beginString()
                    piece(raw, t, &b)
                    b.endString()
                case .image(let url):
                    b.key("type")
                    b.string("image_url")
                    b.key("image_url")
                    b.beginObject()
                    b.key("url")
                    b.string(url)
                    b.endObject()
                }
                b.endObject()
            }
            b.endArray()
        }
        b.endObject()
    }

    private static func piece(_ raw: UnsafeRawBufferPointer, _ text: Text, _ b: inout JSONBuilder) {
        switch text {
        case .span(let r): b.stringPiece(raw, literal: r)
        case .string(let s): b.stringPiece(s)
        }
    }

    /// A `tool_result` block → a `tool` message: its text (a string, or the text blocks of a
    /// list joined by newlines), prefixed with `Error: ` when `is_error`.
    private static func writeToolResult(_ raw: UnsafeRawBufferPointer, _ block: JSONObjectIndex, _ b: inout JSONBuilder) {
        b.beginObject()
        b.key("role")
        b.string("tool")
        b.key("tool_call_id")
        b.string(string(raw, block, "tool_use_id") ?? "")
        b.key("content")
        b.beginString()
        if JSONMembers.bool(raw, member(raw, block, "is_error")) == true { b.stringPiece(escaped: "Error: ") }
        if let content = member(raw, block, "content") {
            if content.kind == .string {
                b.stringPiece(raw, literal: content.range)
            } else if let list = objects(raw, content) {
                var first = true
                for item in list {
                    guard let t = member(raw, item, "text"), t.kind == .string else { continue }
                    if !first { b.stringPiece(escaped: "\\n") }
                    first = false
                    b.stringPiece(raw, literal: t.range)
                }
            }
        }
        b.endString()
        b.endObject()
    }

    private static func textOf(_ raw: UnsafeRawBufferPointer, _ block: JSONObjectIndex) -> Text {
        if let t = member(raw, block, "text"), t.kind == .string { return .span(t.range) }
        return .string("")
    }

    /// A document block's text for a text part: title, context and body, blank-line separated.
    /// Plain-text sources (`text`, `content` lists of text blocks, base64 `text/plain`)
    /// translate; PDFs, images and URLs fail with what they are.
    static func documentText(_ raw: UnsafeRawBufferPointer, _ block: JSONObjectIndex) -> Result<String, DocumentError> {
        let source = member(raw, block, "source").flatMap { JSONMembers.object(raw, $0) }
        let type = source.flatMap { string(raw, $0, "type") } ?? "?"
        var body: String
        switch type {
        case "text":
            body = source.flatMap { string(raw, $0, "data") } ?? ""
        case "content":
            let content = source.flatMap { member(raw, $0, "content") }
            if let content, content.kind == .string {
                body = JSONMembers.string(raw, content) ?? ""
            } else if let content, let list = objects(raw, content) {
                guard list.allSatisfy({ string(raw, $0, "type") == "text" }) else {
                    return .failure(DocumentError(description: "a document whose content holds non-text blocks"))
                }
                body = list.compactMap { string(raw, $0, "text") }.joined(separator: "\n\n")
            } else {
                body = ""
            }
        case "base64":
            let media = source.flatMap { string(raw, $0, "media_type") } ?? "?"
            guard media.hasPrefix("text/"), let data = Data(base64Encoded: source.flatMap { string(raw, $0, "data") } ?? ""),
                  let text = String(data: data, encoding: .utf8) else {
                return .failure(DocumentError(description: "a '\(media)' document"))
            }
            body = text
        default:
            return .failure(DocumentError(description: "a document with a '\(type)' source"))
        }
        let heading = [string(raw, block, "title"), string(raw, block, "context")].compactMap { $0 }.filter { !$0.isEmpty }
        if !heading.isEmpty { body = (heading + [body]).joined(separator: "\n\n") }
        return .success(body)
    }

    /// Why a document block cannot be translated (part of the 400's message).
    struct DocumentError: Error, CustomStringConvertible {
        var description: String
    }

    static func unsupported(_ path: String, _ type: String?) -> GatewayError {
        .badRequest("\(path) of type '\(type ?? "?")' has no equivalent on this model's OpenAI-compatible backend.",
                    code: "unsupported_value", param: path)
    }

    // MARK: - Reading

    private static func member(_ raw: UnsafeRawBufferPointer, _ index: JSONObjectIndex, _ name: String) -> JSONSpan? {
        index.members.last { JSONMembers.key($0, raw) == name }.map(JSONSpan.init)
    }

    private static func string(_ raw: UnsafeRawBufferPointer, _ index: JSONObjectIndex, _ name: String) -> String? {
        JSONMembers.string(raw, member(raw, index, name))
    }

    /// The objects of an array (nil when it is not an array of objects only).
    private static func objects(_ raw: UnsafeRawBufferPointer, _ span: JSONSpan) -> [JSONObjectIndex]? {
        guard let elements = JSONMembers.array(raw, span) else { return nil }
        var out: [JSONObjectIndex] = []
        out.reserveCapacity(elements.count)
        for e in elements {
            guard let o = JSONMembers.object(raw, JSONSpan(e)) else { return nil }
            out.append(o)
        }
        return out
    }
}
