import TollgateCore

/// The bodies `tollgate providers-bench` translates: OpenAI chat requests shaped like a coding
/// agent's turn (long system prompt, tool schemas, a history of tool calls and results), and
/// 200-event upstream streams in each provider's wire format.
enum ProvidersBenchInputs {
    /// An OpenAI chat request of about `bytes` bytes: `tools` function schemas, then
    /// user/assistant(tool call)/tool turns until the size is reached.
    static func agentRequest(bytes: Int, tools: Int, stream: Bool = true) -> [UInt8] {
        var out = #"{"model":"bench-model","stream":"# + (stream ? "true" : "false") + #","max_completion_tokens":4096,"temperature":0.2,"#
        out += #""messages":[{"role":"system","content":"#
        var system = "You are a coding agent working in a large repository. Follow the house style, run the tests, explain each change. "
        while system.utf8.count < bytes / 5 { system += "Never edit generated files; prefer small, reviewable commits with clear messages.\n" }
        out += JSONWriter.quoted(system) + "}"
        var turn = 0
        var body = ""
        let toolsJSON = (0..<tools).map { i in
            #"{"type":"function","function":{"name":"tool_\#(i)","description":"Runs operation \#(i) on the workspace and returns its output as text.","parameters":{"type":"object","properties":{"path":{"type":"string","description":"File or folder"},"pattern":{"type":"string"},"limit":{"type":"integer","minimum":1}},"required":["path"]}}}"#
        }.joined(separator: ",")
        while out.utf8.count + body.utf8.count + toolsJSON.utf8.count < bytes - 400 {
            body += #",{"role":"user","content":"Step \#(turn): please look at Sources/Module\#(turn)/File.swift and fix the failing test \"test\#(turn)\"."}"#
            body += #",{"role":"assistant","content":null,"tool_calls":[{"id":"call_\#(turn)","type":"function","function":{"name":"tool_\#(turn % max(1, tools))","arguments":"{\"path\":\"Sources/Module\#(turn)/File.swift\",\"limit\":200}"}}]}"#
            body += #",{"role":"tool","tool_call_id":"call_\#(turn)","content":"#
                + JSONWriter.quoted(String(repeating: "let value\(turn) = compute(\(turn)) // line of source text\n", count: 24)) + "}"
            turn += 1
        }
        out += body + #",{"role":"user","content":"Now run the whole suite."}],"tools":["# + toolsJSON + #"],"tool_choice":"auto"}"#
        return Array(out.utf8)
    }

    static let textPiece = "chunk of generated code, "

    /// Anthropic Messages SSE: message_start, a text block of `events - 5` deltas, message_delta, message_stop.
    static func anthropicStream(events: Int = 200) -> [UInt8] {
        var s = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":1200,\"output_tokens\":1}}}\n\n"
        s += "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
        for i in 0..<(events - 5) {
            s += "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"\(textPiece)\(i) \"}}\n\n"
        }
        s += "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
        s += "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":600}}\n\n"
        s += "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
        return Array(s.utf8)
    }

    /// Gemini `alt=sse`: `events` partial responses, the last with a finish reason and usage.
    static func geminiStream(events: Int = 200) -> [UInt8] {
        var s = ""
        for i in 0..<events {
            let finish = i == events - 1 ? ",\"finishReason\":\"STOP\"" : ""
            s += "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"\(textPiece)\(i) \"}]}\(finish),\"index\":0}],"
                + "\"usageMetadata\":{\"promptTokenCount\":1200,\"candidatesTokenCount\":\(i + 1),\"totalTokenCount\":\(1201 + i)},\"modelVersion\":\"gemini\",\"responseId\":\"r1\"}\r\n\r\n"
        }
        return Array(s.utf8)
    }

    /// Bedrock ConverseStream: an AWS event stream of messageStart, deltas, messageStop, metadata.
    static func bedrockStream(events: Int = 200) -> [UInt8] {
        func frame(_ type: String, _ json: String) -> [UInt8] {
            EventStreamDecoder.encode(headers: [(":event-type", type), (":content-type", "application/json"), (":message-type", "event")], payload: Array(json.utf8))
        }
        var out = frame("messageStart", #"{"role":"assistant"}"#)
        for i in 0..<(events - 3) {
            out += frame("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"\#(textPiece)\#(i) "}}"#)
        }
        out += frame("messageStop", #"{"stopReason":"end_turn"}"#)
        out += frame("metadata", #"{"usage":{"inputTokens":1200,"outputTokens":600,"totalTokens":1800},"metrics":{"latencyMs":900}}"#)
        return out
    }

    /// OpenAI chat.completion.chunk SSE (what the Anthropic front translates from an OpenAI backend).
    static func openAIStream(events: Int = 200) -> [UInt8] {
        var s = ""
        for i in 0..<(events - 2) {
            let delta = i == 0 ? "{\"role\":\"assistant\",\"content\":\"\"}" : "{\"content\":\"\(textPiece)\(i) \"}"
            s += "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt\",\"choices\":[{\"index\":0,\"delta\":\(delta),\"finish_reason\":null}]}\n\n"
        }
        s += "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
        s += "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt\",\"choices\":[],\"usage\":{\"prompt_tokens\":1200,\"completion_tokens\":600,\"total_tokens\":1800}}\n\n"
        s += "data: [DONE]\n\n"
        return Array(s.utf8)
    }

    /// `bytes` cut into reads of about `size` bytes, as the upstream connection delivers them.
    static func reads(_ bytes: [UInt8], size: Int = 512) -> [[UInt8]] {
        stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
    }
}

extension ProvidersBenchInputs {
    /// An Anthropic Messages request of about `bytes` bytes (the Anthropic front's agent turn).
    static func anthropicRequest(bytes: Int, tools: Int) -> [UInt8] {
        var system = "You are a coding agent working in a large repository. "
        while system.utf8.count < bytes / 5 { system += "Never edit generated files; prefer small, reviewable commits with clear messages.\n" }
        var out = #"{"model":"claude","max_tokens":4096,"stream":true,"system":"# + JSONWriter.quoted(system) + #","messages":["#
        let toolsJSON = (0..<tools).map { i in
            #"{"name":"tool_\#(i)","description":"Runs operation \#(i) on the workspace.","input_schema":{"type":"object","properties":{"path":{"type":"string"},"limit":{"type":"integer"}},"required":["path"]}}"#
        }.joined(separator: ",")
        var turn = 0
        var first = true
        while out.utf8.count + toolsJSON.utf8.count < bytes - 300 {
            out += (first ? "" : ",") + #"{"role":"user","content":"Step \#(turn): fix the failing test."}"#
            out += #",{"role":"assistant","content":[{"type":"text","text":"Looking."},{"type":"tool_use","id":"toolu_\#(turn)","name":"tool_0","input":{"path":"Sources/F\#(turn).swift","limit":200}}]}"#
            out += #",{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_\#(turn)","content":"#
                + JSONWriter.quoted(String(repeating: "let value\(turn) = compute(\(turn)) // source\n", count: 24)) + "}]}"
            first = false
            turn += 1
        }
        out += (first ? "" : ",") + #"{"role":"user","content":"Run the suite."}],"tools":["# + toolsJSON + "]}"
        return Array(out.utf8)
    }
}
