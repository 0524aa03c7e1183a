import Foundation
import TollgateCore

/// OpenAI Chat Completions request → Gemini `generateContent` request (Google AI Studio).
///
/// System messages become `systemInstruction`; user/assistant turns become `contents` with
/// roles `user`/`model`; text and images (data: URLs → `inlineData`) become parts; assistant
/// `tool_calls` become `functionCall` parts and `tool` messages `functionResponse` parts (named
/// after the call they answer); tools become `functionDeclarations`; `tool_choice` becomes
/// `toolConfig`; sampling fields go to `generationConfig`, JSON mode to `responseMimeType`.
/// Anything without a Gemini equivalent is refused with a 400 naming the field.
enum GeminiRequestTranslator {
    static let accepted: Set<String> = ["model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
                                        "temperature", "top_p", "stop", "tools", "tool_choice", "user", "n", "response_format",
                                        "presence_penalty", "frequency_penalty", "seed", "store", "metadata", "parallel_tool_calls"]

    static func translate(_ body: [UInt8]) -> Result<[String: Any], GatewayError> {
        guard let request = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            return .failure(.badRequest("We could not parse the JSON body of your request.", code: "invalid_json"))
        }
        for (key, value) in request where !accepted.contains(key) && !(value is NSNull) {
            return .failure(.badRequest("The parameter '\(key)' is not supported by provider kind gemini and would be lost.",
                                        code: "unsupported_parameter", param: key))
        }
        var generation: [String: Any] = [:]
        if let n = request["max_completion_tokens"] as? Int ?? request["max_tokens"] as? Int { generation["maxOutputTokens"] = n }
        if let t = request["temperature"] as? Double { generation["temperature"] = t }
        if let p = request["top_p"] as? Double { generation["topP"] = p }
        if let n = request["n"] as? Int, n != 1 { generation["candidateCount"] = n }
        if let s = request["seed"] as? Int { generation["seed"] = s }
        if let p = request["presence_penalty"] as? Double { generation["presencePenalty"] = p }
        if let f = request["frequency_penalty"] as? Double { generation["frequencyPenalty"] = f }
        if let stop = request["stop"] as? String { generation["stopSequences"] = [stop] }
        if let stops = request["stop"] as? [String] { generation["stopSequences"] = stops }
        if let format = request["response_format"] as? [String: Any] {
            switch format["type"] as? String {
            case "text": break
            case "json_object": generation["responseMimeType"] = "application/json"
            case "json_schema":
                generation["responseMimeType"] = "application/json"
                if let schema = (format["json_schema"] as? [String: Any])?["schema"] { generation["responseJsonSchema"] = schema }
            default:
                return .failure(.badRequest("response_format type is not supported by provider kind gemini.", code: "unsupported_value", param: "response_format"))
            }
        }
        guard let messages = request["messages"] as? [[String: Any]] else {
            return .failure(.badRequest("Missing required parameter: 'messages'.", code: "missing_messages", param: "messages"))
        }
        var system: [String] = []
        var contents = Conversation(contentKey: "parts")
        var callNames: [String: String] = [:]
        for (i, message) in messages.enumerated() {
            let path = "messages[\(i)]"
            switch message["role"] as? String {
            case "system", "developer":
                switch message["content"] {
                case let s as String: system.append(s)
                case let parts as [[String: Any]]: system += parts.compactMap { $0["text"] as? String }
                default: break
                }
            case "user":
                switch parts(message["content"], path: path) {
                case .success(let p): contents.append(role: "user", p)
                case .failure(let e): return .failure(e)
                }
            case "assistant":
                var p: [[String: Any]] = []
                if let text = message["content"] as? String, !text.isEmpty { p.append(["text": text]) }
                for (j, call) in (message["tool_calls"] as? [[String: Any]] ?? []).enumerated() {
                    let fn = call["function"] as? [String: Any] ?? [:]
                    let name = fn["name"] as? String ?? ""
                    let argsText = fn["arguments"] as? String ?? "{}"
                    guard let args = try? JSONSerialization.jsonObject(with: Data((argsText.isEmpty ? "{}" : argsText).utf8)) as? [String: Any] else {
                        return .failure(.badRequest("\(path).tool_calls[\(j)].function.arguments is not a JSON object.", code: "invalid_tool_arguments",
                                                    param: "\(path).tool_calls[\(j)].function.arguments"))
                    }
                    if let id = call["id"] as? String { callNames[id] = name }
                    p.append(["functionCall": ["name": name, "args": args]])
                }
                contents.append(role: "model", p)
            case "tool":
                let id = message["tool_call_id"] as? String ?? ""
                guard let name = callNames[id] else {
                    return .failure(.badRequest("\(path).tool_call_id '\(id)' does not answer a tool call earlier in the conversation.",
                                                code: "invalid_value", param: "\(path).tool_call_id"))
                }
                let text = message["content"] as? String ?? ""
                let response: Any = (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? ["result": text]
                contents.append(role: "user", [["functionResponse": ["name": name, "response": response]]])
            default:
                return .failure(.badRequest("\(path).role is not supported by provider kind gemini.", code: "unsupported_value", param: "\(path).role"))
            }
        }
        var out: [String: Any] = ["contents": contents.turns]
        if !system.isEmpty { out["systemInstruction"] = ["parts": [["text": system.joined(separator: "\n\n")]]] }
        if !generation.isEmpty { out["generationConfig"] = generation }
        if let tools = request["tools"] as? [[String: Any]] {
            var declarations: [[String: Any]] = []
            for (i, tool) in tools.enumerated() {
                guard tool["type"] as? String == "function", let fn = tool["function"] as? [String: Any], let name = fn["name"] as? String else {
                    return .failure(.badRequest("tools[\(i)] must be a function tool for provider kind gemini.", code: "unsupported_value", param: "tools[\(i)]"))
                }
                var d: [String: Any] = ["name": name]
                if let desc = fn["description"] as? String { d["description"] = desc }
                if let params = fn["parameters"] { d["parametersJsonSchema"] = params }
                declarations.append(d)
            }
            out["tools"] = [["functionDeclarations": declarations]]
        }
        switch request["tool_choice"] {
        case let s as String:
            let mode = ["auto": "AUTO", "required": "ANY", "none": "NONE"][s]
            guard let mode else { return .failure(.badRequest("tool_choice '\(s)' is not supported.", code: "unsupported_value", param: "tool_choice")) }
            out["toolConfig"] = ["functionCallingConfig": ["mode": mode]]
        case let o as [String: Any]:
            guard let name = (o["function"] as? [String: Any])?["name"] as? String else {
                return .failure(.badRequest("tool_choice must name a function.", code: "unsupported_value", param: "tool_choice"))
            }
            out["toolConfig"] = ["functionCallingConfig": ["mode": "ANY", "allowedFunctionNames": [name]]]
        default:
            break
        }
        return .success(out)
    }

    static func parts(_ content: Any?, path: String) -> Result<[[String: Any]], GatewayError> {
        switch content {
        case let s as String:
            return .success(s.isEmpty ? [] : [["text": s]])
        case let list as [[String: Any]]:
            var out: [[String: Any]] = []
            for (k, part) in list.enumerated() {
                switch part["type"] as? String {
                case "text":
                    out.append(["text": part["text"] as? String ?? ""])
                case "image_url":
                    let url = (part["image_url"] as? [String: Any])?["url"] as? String ?? ""
                    guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") else {
                        return .failure(.badRequest("\(path).content[\(k)]: provider kind gemini takes images as data: URLs only.",
                                                    code: "unsupported_value", param: "\(path).content[\(k)]"))
                    }
                    let mime = url[url.index(url.startIndex, offsetBy: 5)..<comma].split(separator: ";").first.map(String.init) ?? "image/png"
                    out.append(["inlineData": ["mimeType": mime, "data": String(url[url.index(after: comma)...])]])
                default:
                    return .failure(.badRequest("\(path).content[\(k)] is not supported by provider kind gemini.", code: "unsupported_value", param: "\(path).content[\(k)]"))
                }
            }
            return .success(out)
        default:
            return .success([])
        }
    }
}
