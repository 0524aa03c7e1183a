import Foundation
import TollgateCore

/// OpenAI Chat Completions request → Bedrock Converse request.
///
/// System messages → `system`; text and images (data: URLs → `image.source.bytes`) → content
/// blocks; assistant `tool_calls` → `toolUse` blocks; `tool` messages → `toolResult` blocks in
/// a user turn; consecutive turns of one role merge; sampling → `inferenceConfig`; tools →
/// `toolConfig`. Fields Converse cannot express are refused with a 400 naming them.
enum BedrockConverseTranslator {
    static let accepted: Set<String> = ["model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
                                        "temperature", "top_p", "stop", "tools", "tool_choice", "user", "store", "metadata"]

    static func translate(_ body: [UInt8]) -> Result<[String: Any], GatewayError> {
        guard let request = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            return .failure(.badRequest("We could not parse the JSON body of your request.", code: "invalid_json"))
        }
        for (key, value) in request where !accepted.contains(key) && !(value is NSNull) {
            if key == "n", (value as? Int) == 1 { continue }
            return .failure(.badRequest("The parameter '\(key)' is not supported by provider kind bedrock and would be lost.",
                                        code: "unsupported_parameter", param: key))
        }
        var inference: [String: Any] = [:]
        if let n = request["max_completion_tokens"] as? Int ?? request["max_tokens"] as? Int { inference["maxTokens"] = n }
        if let t = request["temperature"] as? Double { inference["temperature"] = t }
        if let p = request["top_p"] as? Double { inference["topP"] = p }
        if let s = request["stop"] as? String { inference["stopSequences"] = [s] }
        if let s = request["stop"] as? [String] { inference["stopSequences"] = s }
        guard let messages = request["messages"] as? [[String: Any]] else {
            return .failure(.badRequest("Missing required parameter: 'messages'.", code: "missing_messages", param: "messages"))
        }
        var system: [[String: Any]] = []
        var turns = Conversation()
        for (i, message) in messages.enumerated() {
            let path = "messages[\(i)]"
            switch message["role"] as? String {
            case "system", "developer":
                switch message["content"] {
                case let s as String: system.append(["text": s])
                case let parts as [[String: Any]]: system += parts.compactMap { ($0["text"] as? String).map { ["text": $0] } }
                default: break
                }
            case "user":
                switch blocks(message["content"], path: path) {
                case .success(let b): turns.append(role: "user", b)
                case .failure(let e): return .failure(e)
                }
            case "assistant":
                var b: [[String: Any]] = []
                if let text = message["content"] as? String, !text.isEmpty { b.append(["text": text]) }
                for (j, call) in (message["tool_calls"] as? [[String: Any]] ?? []).enumerated() {
                    let fn = call["function"] as? [String: Any] ?? [:]
                    let text = fn["arguments"] as? String ?? "{}"
                    guard let input = try? JSONSerialization.jsonObject(with: Data((text.isEmpty ? "{}" : text).utf8)) as? [String: Any] else {
                        return .failure(.badRequest("\(path).tool_calls[\(j)].function.arguments is not a JSON object.", code: "invalid_tool_arguments",
                                                    param: "\(path).tool_calls[\(j)].function.arguments"))
                    }
                    b.append(["toolUse": ["toolUseId": call["id"] as? String ?? "tool_\(i)_\(j)", "name": fn["name"] as? String ?? "", "input": input]])
                }
                turns.append(role: "assistant", b)
            case "tool":
                let text = message["content"] as? String ?? ""
                turns.append(role: "user", [["toolResult": ["toolUseId": message["tool_call_id"] as? String ?? "", "content": [["text": text]]]]])
            default:
                return .failure(.badRequest("\(path).role is not supported by provider kind bedrock.", code: "unsupported_value", param: "\(path).role"))
            }
        }
        var out: [String: Any] = ["messages": turns.turns]
        if !system.isEmpty { out["system"] = system }
        if !inference.isEmpty { out["inferenceConfig"] = inference }
        if let tools = request["tools"] as? [[String: Any]] {
            var specs: [[String: Any]] = []
            for (i, tool) in tools.enumerated() {
                guard tool["type"] as? String == "function", let fn = tool["function"] as? [String: Any], let name = fn["name"] as? String else {
                    return .failure(.badRequest("tools[\(i)] must be a function tool for provider kind bedrock.", code: "unsupported_value", param: "tools[\(i)]"))
                }
                var spec: [String: Any] = ["name": name, "inputSchema": ["json": fn["parameters"] ?? ["type": "object"]]]
                if let d = fn["description"] as? String { spec["description"] = d }
                specs.append(["toolSpec": spec])
            }
            var config: [String: Any] = ["tools": specs]
            switch request["tool_choice"] {
            case let s as String where s == "auto": config["toolChoice"] = ["auto": [String: Any]()]
            case let s as String where s == "required": config["toolChoice"] = ["any": [String: Any]()]
            case let s as String where s == "none": return .failure(.badRequest("tool_choice 'none' is not supported by provider kind bedrock; omit the tools instead.", code: "unsupported_value", param: "tool_choice"))
            case let o as [String: Any]:
                config["toolChoice"] = ["tool": ["name": (o["function"] as? [String: Any])?["name"] as? String ?? ""]]
            default: break
            }
            out["toolConfig"] = config
        }
        return .success(out)
    }

    static func blocks(_ content: Any?, path: String) -> Result<[[String: Any]], GatewayError> {
        switch content {
        case let s as String:
            return .success(s.isEmpty ? [] : [["text": s]])
        case let parts as [[String: Any]]:
            var out: [[String: Any]] = []
            for (k, part) in parts.enumerated() {
                switch part["type"] as? String {
                case "text":
                    out.append(["text": part["text"] as? String ?? ""])
                case "image_url":
                    let url = (part["image_url"] as? [String: Any])?["url"] as? String ?? ""
                    guard url.hasPrefix("data:image/"), let comma = url.firstIndex(of: ",") else {
                        return .failure(.badRequest("\(path).content[\(k)]: provider kind bedrock takes images as data: URLs only.",
                                                    code: "unsupported_value", param: "\(path).content[\(k)]"))
                    }
                    let mime = url[url.index(url.startIndex, offsetBy: 11)..<comma].split(separator: ";").first.map(String.init) ?? "png"
                    out.append(["image": ["format": mime == "jpg" ? "jpeg" : mime, "source": ["bytes": String(url[url.index(after: comma)...])]]])
                default:
                    return .failure(.badRequest("\(path).content[\(k)] is not supported by provider kind bedrock.", code: "unsupported_value", param: "\(path).content[\(k)]"))
                }
            }
            return .success(out)
        default:
            return .success([])
        }
    }
}
