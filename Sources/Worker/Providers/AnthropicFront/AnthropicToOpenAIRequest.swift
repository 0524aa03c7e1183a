import Foundation
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
enum AnthropicToOpenAIRequest {
    static let accepted: Set<String> = ["model", "messages", "system", "max_tokens", "stream", "temperature", "top_p",
                                        "stop_sequences", "tools", "tool_choice", "metadata"]

    static func translate(_ body: [UInt8], upstreamModel: String) -> Result<[String: Any], GatewayError> {
        guard let request = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            return .failure(.badRequest("The request body is not a JSON object.", code: "invalid_json"))
        }
        for (key, value) in request where !accepted.contains(key) {
            if value is NSNull { continue }
            if key == "thinking", (value as? [String: Any])?["type"] as? String == "disabled" { continue }
            return .failure(.badRequest("'\(key)' has no equivalent on this model's OpenAI-compatible backend; remove it or route the model to an Anthropic provider.",
                                        code: "unsupported_parameter", param: key))
        }
        guard let maxTokens = request["max_tokens"] as? Int else {
            return .failure(.badRequest("max_tokens: Field required", code: "missing_max_tokens", param: "max_tokens"))
        }
        var out: [String: Any] = ["model": upstreamModel, "max_tokens": maxTokens]
        if let t = request["temperature"] as? Double { out["temperature"] = t }
        if let p = request["top_p"] as? Double { out["top_p"] = p }
        if let stops = request["stop_sequences"] as? [String], !stops.isEmpty { out["stop"] = stops }
        if let user = (request["metadata"] as? [String: Any])?["user_id"] as? String { out["user"] = user }
        if request["stream"] as? Bool == true {
            out["stream"] = true
            out["stream_options"] = ["include_usage": true]
        }
        var messages: [[String: Any]] = []
        switch request["system"] {
        case let s as String where !s.isEmpty:
            messages.append(["role": "system", "content": s])
        case let blocks as [[String: Any]]:
            let text = blocks.compactMap { $0["text"] as? String }.joined(separator: "\n\n")
            if !text.isEmpty { messages.append(["role": "system", "content": text]) }
        default:
            break
        }
        guard let turns = request["messages"] as? [[String: Any]] else {
            return .failure(.badRequest("messages: Field required", code: "missing_messages", param: "messages"))
        }
        for (i, turn) in turns.enumerated() {
            let path = "messages[\(i)]"
            let role = turn["role"] as? String ?? ""
            let blocks: [[String: Any]]
            switch turn["content"] {
            case let s as String: blocks = [["type": "text", "text": s]]
            case let b as [[String: Any]]: blocks = b
            default: return .failure(.badRequest("\(path).content must be a string or a list of content blocks.", code: "invalid_value", param: "\(path).content"))
            }
            switch role {
            case "user":
                var parts: [[String: Any]] = []
                for (k, block) in blocks.enumerated() {
                    switch block["type"] as? String {
                    case "text":
                        parts.append(["type": "text", "text": block["text"] as? String ?? ""])
                    case "image":
                        let source = block["source"] as? [String: Any] ?? [:]
                        let url: String
                        if source["type"] as? String == "base64" {
                            url = "data:\(source["media_type"] as? String ?? "image/png");base64,\(source["data"] as? String ?? "")"
                        } else {
                            url = source["url"] as? String ?? ""
                        }
                        parts.append(["type": "image_url", "image_url": ["url": url]])
                    case "document":
                        switch documentText(block) {
                        case .success(let text): parts.append(["type": "text", "text": text])
                        case .failure(let reason):
                            return .failure(.badRequest("\(path).content[\(k)]: \(reason) has no equivalent on this model's OpenAI-compatible backend; send the document as text or route the model to an Anthropic provider.",
                                                        code: "unsupported_value", param: "\(path).content[\(k)]"))
                        }
                    case "tool_result":
                        let text: String
                        switch block["content"] {
                        case let s as String: text = s
                        case let list as [[String: Any]]: text = list.compactMap { $0["text"] as? String }.joined(separator: "\n")
                        default: text = ""
                        }
                        let isError = block["is_error"] as? Bool == true
                        messages.append(["role": "tool", "tool_call_id": block["tool_use_id"] as? String ?? "", "content": isError ? "Error: " + text : text])
                    default:
                        return .failure(unsupported("\(path).content[\(k)]", block["type"] as? String))
                    }
                }
                if !parts.isEmpty {
                    let onlyText = parts.allSatisfy { $0["type"] as? String == "text" }
                    messages.append(["role": "user", "content": onlyText ? parts.compactMap { $0["text"] as? String }.joined(separator: "\n") as Any : parts])
                }
            case "assistant":
                var text = ""
                var calls: [[String: Any]] = []
                for (k, block) in blocks.enumerated() {
                    switch block["type"] as? String {
                    case "text":
                        text += block["text"] as? String ?? ""
                    case "tool_use":
                        let input = (try? JSONSerialization.data(withJSONObject: block["input"] ?? [String: Any](), options: [.sortedKeys]))
                            .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
                        calls.append(["id": block["id"] as? String ?? "", "type": "function",
                                      "function": ["name": block["name"] as? String ?? "", "arguments": input]])
                    case "thinking", "redacted_thinking":
                        continue
                    default:
                        return .failure(unsupported("\(path).content[\(k)]", block["type"] as? String))
                    }
                }
                var message: [String: Any] = ["role": "assistant", "content": text.isEmpty && !calls.isEmpty ? NSNull() : text as Any]
                if !calls.isEmpty { message["tool_calls"] = calls }
                messages.append(message)
            default:
                return .failure(.badRequest("\(path).role must be user or assistant.", code: "invalid_value", param: "\(path).role"))
            }
        }
        out["messages"] = messages
        if let tools = request["tools"] as? [[String: Any]] {
            var translated: [[String: Any]] = []
            for (i, tool) in tools.enumerated() {
                if let type = tool["type"] as? String, type != "custom" {
                    return .failure(unsupported("tools[\(i)]", type))
                }
                var fn: [String: Any] = ["name": tool["name"] as? String ?? "", "parameters": tool["input_schema"] as? [String: Any] ?? ["type": "object"]]
                if let d = tool["description"] as? String { fn["description"] = d }
                translated.append(["type": "function", "function": fn])
            }
            out["tools"] = translated
        }
        if let choice = request["tool_choice"] as? [String: Any] {
            switch choice["type"] as? String {
            case "auto": out["tool_choice"] = "auto"
            case "any": out["tool_choice"] = "required"
            case "none": out["tool_choice"] = "none"
            case "tool": out["tool_choice"] = ["type": "function", "function": ["name": choice["name"] as? String ?? ""]]
            default: return .failure(unsupported("tool_choice", choice["type"] as? String))
            }
            if choice["disable_parallel_tool_use"] as? Bool == true { out["parallel_tool_calls"] = false }
        }
        return .success(out)
    }

    /// A document block's text for a text part: title, context and body, blank-line separated.
    /// Plain-text sources (`text`, `content` lists of text blocks, base64 `text/plain`)
    /// translate; PDFs, images and URLs fail with what they are.
    static func documentText(_ block: [String: Any]) -> Result<String, DocumentError> {
        let source = block["source"] as? [String: Any] ?? [:]
        let type = source["type"] as? String ?? "?"
        var body: String
        switch type {
        case "text":
            body = source["data"] as? String ?? ""
        case "content":
            switch source["content"] {
            case let s as String:
                body = s
            case let list as [[String: Any]]:
                guard list.allSatisfy({ $0["type"] as? String == "text" }) else {
                    return .failure(DocumentError(description: "a document whose content holds non-text blocks"))
                }
                body = list.compactMap { $0["text"] as? String }.joined(separator: "\n\n")
            default:
                body = ""
            }
        case "base64":
            let media = source["media_type"] as? String ?? "?"
            guard media.hasPrefix("text/"), let data = Data(base64Encoded: source["data"] as? String ?? ""),
                  let text = String(data: data, encoding: .utf8) else {
                return .failure(DocumentError(description: "a '\(media)' document"))
            }
            body = text
        default:
            return .failure(DocumentError(description: "a document with a '\(type)' source"))
        }
        let heading = [block["title"] as? String, block["context"] as? String].compactMap { $0 }.filter { !$0.isEmpty }
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
}
