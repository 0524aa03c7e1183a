import Config
import NIOCore
import NIOHTTP1
import TollgateCore

/// Anthropic Messages response → OpenAI Chat Completions response, whole or streamed.
///
/// Stream events map as: `message_start` → a first chunk with the assistant role;
/// `content_block_start` of a `tool_use` → a tool call chunk with id and name; `text_delta` →
/// content; `input_json_delta` → tool call arguments; `message_delta` → the finish reason;
/// `message_stop` → the usage chunk (when the client asked with `stream_options.include_usage`)
/// and `[DONE]`; `error` → an OpenAI-shaped error event. Stop reasons: end_turn/stop_sequence →
/// stop, max_tokens → length, tool_use → tool_calls, refusal → content_filter.
final class AnthropicResponseTranslator: ResponseTranslator {
    private let model: String
    private let price: GatewayConfig.ModelPrice?
    private var reader: SSEStreamReader
    var streamFailure: String? { reader.failure }
    private var writer: OpenAIChunkWriter
    private var inputTokens = 0
    private var cachedTokens = 0
    private var outputTokens = 0
    private var toolIndexByBlock: [Int: Int] = [:]
    private var finished = false

    init(publicModel: String, includeUsage: Bool, price: GatewayConfig.ModelPrice? = nil, maxLineBytes: Int = SSEParser.defaultMaxLineBytes) {
        self.reader = SSEStreamReader(maxLineBytes: maxLineBytes, front: .openAI)
        self.model = publicModel
        self.price = price
        self.writer = OpenAIChunkWriter(id: "chatcmpl-anthropic", model: publicModel, includeUsage: includeUsage)
    }

    /// The usage is the provider's final count: a whole message's, or a stream's once
    /// `message_delta` arrived. `message_start` only carries the prompt and a placeholder
    /// output count, so a stream cut before `message_delta` has no usage and is settled with
    /// the reserved estimate instead.
    private var sawUsage = false

    private var currentUsage: Usage {
        Usage(promptTokens: inputTokens, completionTokens: outputTokens, cachedTokens: cachedTokens)
    }

    var usage: Usage? {
        sawUsage ? Usage(promptTokens: inputTokens, completionTokens: outputTokens, cachedTokens: cachedTokens) : nil
    }

    func mode(status: Int, headers: HTTPHeaders) -> TranslationMode {
        if status == 200, headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true {
            return .stream(contentType: "text/event-stream; charset=utf-8")
        }
        return .buffered
    }

    // MARK: - Whole responses

    func translateWhole(status: Int, body: [UInt8]) -> (status: Int, body: [UInt8]) {
        body.withUnsafeBytes { raw in
            guard let object = JSONObjectView(document: raw) else {
                let error = GatewayError(status: 502, type: "server_error", code: "upstream_invalid_response",
                                         message: "The upstream (anthropic) answered HTTP \(status) with a body that is not JSON.")
                return (502, Array(error.openAIBody.utf8))
            }
            if status >= 400 || object.string("type") == "error" {
                let e = object.object("error")
                let type = status >= 500 ? "server_error" : "invalid_request_error"
                let error = GatewayError(status: status, type: type, code: e?.string("type"),
                                         message: "Upstream (anthropic): " + (e?.string("message") ?? "HTTP \(status)"))
                return (status, Array(error.openAIBody.utf8))
            }
            var text = ""
            var toolCalls: [String] = []
            for block in object.objects("content") ?? [] {
                switch block.string("type") {
                case "text":
                    text += block.string("text") ?? ""
                case "tool_use":
                    toolCalls.append("{\"id\":" + JSONWriter.quoted(block.string("id") ?? "") + ",\"type\":\"function\",\"function\":{\"name\":"
                                     + JSONWriter.quoted(block.string("name") ?? "") + ",\"arguments\":" + JSONWriter.quoted(block.compactJSON("input")) + "}}")
                default:
                    break
                }
            }
            noteUsage(object.object("usage"))
            let hasText = !text.isEmpty || toolCalls.isEmpty
            var message = "{\"role\":\"assistant\",\"content\":" + (hasText ? JSONWriter.quoted(text) : "null")
            if !toolCalls.isEmpty { message += ",\"tool_calls\":[" + toolCalls.joined(separator: ",") + "]" }
            message += ",\"refusal\":null,\"annotations\":[]}"
            let finish = Self.finishReason(object.string("stop_reason"))
            let out = "{\"id\":" + JSONWriter.quoted("chatcmpl-" + (object.string("id") ?? "anthropic")) + ",\"object\":\"chat.completion\",\"created\":\(writer.created),\"model\":"
                + JSONWriter.quoted(model) + ",\"choices\":[{\"index\":0,\"message\":" + message + ",\"logprobs\":null,\"finish_reason\":\"\(finish)\"}],"
                + "\"usage\":" + OpenAIChunkWriter.usageJSON(currentUsage) + ",\"system_fingerprint\":null}"
            return (200, Array(out.utf8))
        }
    }

    // MARK: - Streams

    func translateChunk(_ buffer: ByteBuffer) -> [UInt8] {
        var out: [UInt8] = []
        for event in reader.events(buffer) {
            out += event.data.withUnsafeBytes { raw in translate(event, raw) }
        }
        return out + reader.takeFailureEvent()
    }

    func finishStream() -> [UInt8] {
        finished || streamFailure != nil ? [] : Array("data: [DONE]\n\n".utf8)
    }

    private func translate(_ event: SSEParser.Event, _ raw: UnsafeRawBufferPointer) -> [UInt8] {
        guard let object = JSONObjectView(document: raw) else { return [] }
        let type = object.string("type") ?? event.event ?? ""
        switch type {
        case "message_start":
            let message = object.object("message")
            writer.id = "chatcmpl-" + (message?.string("id") ?? "anthropic")
            noteUsage(message?.object("usage"), final: false)
            return writer.chunk(delta: "{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}")
        case "content_block_start":
            guard let block = object.object("content_block"), block.string("type") == "tool_use", let index = object.int("index") else { return [] }
            let toolIndex = toolIndexByBlock.count
            toolIndexByBlock[index] = toolIndex
            return writer.chunk(delta: "{\"tool_calls\":[{\"index\":\(toolIndex),\"id\":" + JSONWriter.quoted(block.string("id") ?? "")
                         + ",\"type\":\"function\",\"function\":{\"name\":" + JSONWriter.quoted(block.string("name") ?? "") + ",\"arguments\":\"\"}}]}")
        case "content_block_delta":
            guard let delta = object.object("delta") else { return [] }
            switch delta.string("type") {
            case "text_delta":
                return writer.chunk(delta: "{\"content\":" + Self.literal(delta, "text") + "}")
            case "input_json_delta":
                guard let index = object.int("index"), let toolIndex = toolIndexByBlock[index] else { return [] }
                return writer.chunk(delta: "{\"tool_calls\":[{\"index\":\(toolIndex),\"function\":{\"arguments\":"
                             + Self.literal(delta, "partial_json") + "}}]}")
            default:
                return []
            }
        case "message_delta":
            noteUsage(object.object("usage"))
            guard let reason = object.object("delta")?.string("stop_reason") else { return [] }
            return writer.chunk(delta: "{}", finish: Self.finishReason(reason))
        case "message_stop":
            finished = true
            var out = writer.usageChunk(currentUsage)
            if let usage { out += usage.streamComment(price) }
            return out + Array("data: [DONE]\n\n".utf8)
        case "error":
            finished = true
            let e = object.object("error")
            let error = GatewayError(status: 502, type: "server_error", code: e?.string("type") ?? "upstream_error",
                                     message: "Upstream (anthropic) stream error: " + (e?.string("message") ?? "unknown"))
            return Array(("data: " + error.openAIBody + "\n\n").utf8)
        default:
            return []
        }
    }

    /// A string member as the JSON literal it already is (the upstream's escaping kept), or `""`.
    static func literal(_ object: JSONObjectView, _ name: String) -> String {
        guard let span = object[name], span.kind == .string else { return "\"\"" }
        return String(decoding: object.bytes(span), as: UTF8.self)
    }

    private func noteUsage(_ usage: JSONObjectView?, final: Bool = true) {
        guard let usage else { return }
        if final && !usage.index.members.isEmpty { sawUsage = true }
        if let v = usage.count("input_tokens") { inputTokens = v }
        if let v = usage.count("output_tokens") { outputTokens = v }
        let read = max(0, usage.count("cache_read_input_tokens") ?? 0)
        let creation = max(0, usage.count("cache_creation_input_tokens") ?? 0)
        if Usage.sum(read, creation) > 0 {
            cachedTokens = read
            inputTokens = Usage.sum(usage.count("input_tokens") ?? inputTokens, read, creation)
        }
    }

    static func finishReason(_ stop: String?) -> String {
        switch stop {
        case "max_tokens": return "length"
        case "tool_use": return "tool_calls"
        case "refusal": return "content_filter"
        default: return "stop"
        }
    }
}
