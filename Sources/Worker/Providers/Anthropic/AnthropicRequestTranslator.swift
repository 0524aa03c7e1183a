import Foundation
import TollgateCore

/// OpenAI Chat Completions request → Anthropic Messages request.
///
/// Mapping (after Anthropic's Messages API reference and Envoy AI Gateway's translator):
/// system/developer messages are hoisted into `system`; `tool` messages become `tool_result`
/// blocks in a user turn; assistant `tool_calls` become `tool_use` blocks; consecutive turns of
/// one role are merged; images (`image_url`, data: or https URLs) become image blocks;
/// `max_tokens`/`max_completion_tokens` default to `defaultMaxTokens` (Anthropic requires it);
/// `stop` → `stop_sequences`; tools, `tool_choice` and `parallel_tool_calls` map to their
/// Anthropic forms. A field with no Anthropic equivalent is refused with a 400 naming it —
/// never silently dropped.
enum AnthropicRequestTranslator {
    static let defaultMaxTokens = 4096

    /// Fields accepted and ignored because they have no effect on Anthropic's output.
    static let harmless: Set<String> = ["model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
                                        "temperature", "top_p", "stop", "tools", "tool_choice", "parallel_tool_calls", "user",
                                        "metadata", "store", "service_tier"]

    static func translate(_ body: [UInt8], upstreamModel: String) -> Result<[String: Any], GatewayError> {
        guard let request = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            return .failure(.badRequest("We could not parse the JSON body of your request.", code: "invalid_json"))
        }
        for (key, value) in request where !harmless.contains(key) {
            if value is NSNull { continue }
            if key == "n", (value as? Int) == 1 { continue }
            if key == "response_format", let f = value as? [String: Any], f["type"] as? String == "text" { continue }
            if (key == "frequency_penalty" || key == "presence_penalty"), (value as? Double) == 0 { continue }
            if key == "logprobs", (value as? Bool) == false { continue }
            return .failure(unsupported(key))
        }
        var out: [String: Any] = ["model": upstreamModel]
        out["max_tokens"] = (request["max_completion_tokens"] as? Int) ?? (request["max_tokens"] as? Int) ?? defaultMaxTokens
        if let t = request["temperature"] as? Double {
            guard t <= 1 else {
                return .failure(.badRequest("temperature \(t) is above 1, the maximum of provider kind anthropic.", code: "unsupported_value", param: "temperature"))
            }
            out["temperature"] = t
        }
        if let p = request["top_p"] as? Double { out["top_p"] = p }
        if let stop = request["stop"] as? String { out["stop_sequences"] = [stop] }
        if let stops = request["stop"] as? [String] { out["stop_sequences"] = stops }
        if request["stream"] as? Bool == true { out["stream"] = true }
        if let user = request["user"] as? String { out["metadata"] = ["user_id": user] }

        guard let messages = request["messages"] as? [[String: Any]] else {
            return .failure(.badRequest("Missing required parameter: 'messages'.", code: "missing_messages", param: "messages"))
        }
        var system: [[String: Any]] = []
        var turns = Conversation()
        for (i, message) in messages.enumerated() {
            let path = "messages[\(i)]"
            let role = message["role"] as? String ?? ""
            switch role {
            case "system", "developer":
                switch contentBlocks(message["content"], path: path, allowImages: false) {
                case .success(let blocks): system += blocks
                case .failure(let e): return .failure(e)
                }
            case "user":
                switch contentBlocks(message["content"], path: path, allowImages: true) {
                case .success(let blocks): turns.append(role: "user", blocks)
                case .failure(let e): return .failure(e)
                }
            case "assistant":
                var blocks: [[String: Any]] = []
                if message["content"] != nil, !(message["content"] is NSNull) {
                    switch contentBlocks(message["content"], path: path, allowImages: false) {
                    case .success(let b): blocks += b
                    case .failure(let e): return .failure(e)
                    }
                }
                for (j, call) in (message["tool_calls"] as? [[String: Any]] ?? []).enumerated() {
                    let fn = call["function"] as? [String: Any] ?? [:]
                    let argsText = fn["arguments"] as? String ?? "{}"
                    guard let input = try? JSONSerialization.jsonObject(with: Data((argsText.isEmpty ? "{}" : argsText).utf8)) as? [String: Any] else {
                        return .failure(.badRequest("\(path).tool_calls[\(j)].function.arguments is not a JSON object.", code: "invalid_tool_arguments",
                                                    param: "\(path).tool_calls[\(j)].function.arguments"))
                    }
                    blocks.append(["type": "tool_use", "id": call["id"] as? String ?? "toolu_\(i)_\(j)", "name": fn["name"] as? String ?? "", "input": input])
                }
                turns.append(role: "assistant", blocks)
            case "tool":
                let text: String
                switch message["content"] {
                case let s as String: text = s
                case let parts as [[String: Any]]: text = parts.compactMap { $0["text"] as? String }.joined()
                default: text = ""
                }
                turns.append(role: "user", [["type": "tool_result", "tool_use_id": message["tool_call_id"] as? String ?? "", "content": text]])
            default:
                return .failure(.badRequest("\(path).role '\(role)' is not supported by provider kind anthropic.", code: "unsupported_value", param: "\(path).role"))
            }
        }
        if !system.isEmpty {
            out["system"] = system.count == 1 ? (system[0]["text"] as Any) : system
        }
        out["messages"] = turns.turns

        if let tools = request["tools"] as? [[String: Any]] {
            var translated: [[String: Any]] = []
            for (i, tool) in tools.enumerated() {
                guard tool["type"] as? String == "function", let fn = tool["function"] as? [String: Any], let name = fn["name"] as? String else {
                    return .failure(.badRequest("tools[\(i)] must be a function tool for provider kind anthropic.", code: "unsupported_value", param: "tools[\(i)]"))
                }
                var t: [String: Any] = ["name": name, "input_schema": fn["parameters"] as? [String: Any] ?? ["type": "object", "properties": [String: Any]()]]
                if let d = fn["description"] as? String { t["description"] = d }
                translated.append(t)
            }
            out["tools"] = translated
        }
        var choice: [String: Any]?
        switch request["tool_choice"] {
        case let s as String:
            switch s {
            case "auto": choice = ["type": "auto"]
            case "required": choice = ["type": "any"]
            case "none": choice = ["type": "none"]
            default: return .failure(.badRequest("tool_choice '\(s)' is not supported.", code: "unsupported_value", param: "tool_choice"))
            }
        case let o as [String: Any]:
            guard let name = (o["function"] as? [String: Any])?["name"] as? String else {
                return .failure(.badRequest("tool_choice must name a function.", code: "unsupported_value", param: "tool_choice"))
            }
            choice = ["type": "tool", "name": name]
        default:
            break
        }
        if request["parallel_tool_calls"] as? Bool == false {
            choice = (choice ?? ["type": "auto"]).merging(["disable_parallel_tool_use": true]) { _, new in new }
        }
        if let choice { out["tool_choice"] = choice }
        return .success(out)
    }

    /// OpenAI message content (string or parts) → Anthropic content blocks.
    static func contentBlocks(_ content: Any?, path: String, allowImages: Bool) -> Result<[[String: Any]], GatewayError> {
        switch content {
        case let s as String:
            return .success(s.isEmpty ? [] : [["type": "text", "text": s]])
        case let parts as [[String: Any]]:
            var blocks: [[String: Any]] = []
            for (k, part) in parts.enumerated() {
                switch part["type"] as? String {
                case "text":
                    blocks.append(["type": "text", "text": part["text"] as? String ?? ""])
                case "image_url" where allowImages:
                    let url = (part["image_url"] as? [String: Any])?["url"] as? String ?? ""
                    if url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") {
                        let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
                        let mediaType = header.split(separator: ";").first.map(String.init) ?? "image/png"
                        blocks.append(["type": "image", "source": ["type": "base64", "media_type": mediaType, "data": String(url[url.index(after: comma)...])]])
                    } else {
                        blocks.append(["type": "image", "source": ["type": "url", "url": url]])
                    }
                default:
                    return .failure(.badRequest("\(path).content[\(k)] of type '\(part["type"] as? String ?? "?")' is not supported by provider kind anthropic.",
                                                code: "unsupported_value", param: "\(path).content[\(k)]"))
                }
            }
            return .success(blocks)
        case nil, is NSNull:
            return .success([])
        default:
            return .failure(.badRequest("\(path).content must be a string or an array of parts.", code: "invalid_value", param: "\(path).content"))
        }
    }

    static func unsupported(_ field: String) -> GatewayError {
        .badRequest("The parameter '\(field)' is not supported by provider kind anthropic and would be lost; remove it or route this model to an OpenAI-compatible provider.",
                    code: "unsupported_parameter", param: field)
    }
}
