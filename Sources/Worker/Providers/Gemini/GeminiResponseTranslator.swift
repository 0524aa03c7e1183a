import Config
import NIOCore
import NIOHTTP1
import TollgateCore

/// Gemini `GenerateContentResponse` → OpenAI Chat Completions, whole or streamed (`alt=sse`:
/// every event is a partial response; the stream simply ends, so `[DONE]` and the usage chunk
/// are added when the upstream body ends). `functionCall` parts become tool calls with
/// generated ids; finish reasons: STOP → stop (tool_calls when functions were called),
/// MAX_TOKENS → length, safety-type reasons → content_filter.
final class GeminiResponseTranslator: ResponseTranslator {
    private let model: String
    private let price: GatewayConfig.ModelPrice?
    private var reader: SSEStreamReader
    var streamFailure: String? { reader.failure }
    /// The latest `usageMetadata` (every chunk of a stream carries the counts so far).
    private var latestUsage: Usage?
    /// Whether the response is complete (a whole body, or a stream's `finishReason`): before
    /// that the counts are partial and the request is settled with its estimate instead.
    private var complete = false
    var usage: Usage? { complete ? latestUsage : nil }
    private var writer: OpenAIChunkWriter
    private var started = false
    private var toolCalls = 0
    private var errored = false

    init(publicModel: String, includeUsage: Bool, price: GatewayConfig.ModelPrice?, maxLineBytes: Int = SSEParser.defaultMaxLineBytes) {
        self.reader = SSEStreamReader(maxLineBytes: maxLineBytes, front: .openAI)
        self.model = publicModel
        self.price = price
        self.writer = OpenAIChunkWriter(id: "chatcmpl-gemini", model: publicModel, includeUsage: includeUsage)
    }

    func mode(status: Int, headers: HTTPHeaders) -> TranslationMode {
        if (200..<300).contains(status), headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true {
            return .stream(contentType: "text/event-stream; charset=utf-8")
        }
        return .buffered
    }

    static func finishReason(_ reason: String?, calledTools: Bool) -> String? {
        switch reason {
        case nil: return nil
        case "MAX_TOKENS": return "length"
        case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY": return "content_filter"
        default: return calledTools ? "tool_calls" : "stop"
        }
    }

    func translateWhole(status: Int, body: [UInt8]) -> (status: Int, body: [UInt8]) {
        body.withUnsafeBytes { raw in
            guard let object = JSONObjectView(document: raw) else {
                let e = GatewayError(status: 502, type: "server_error", code: "upstream_invalid_response",
                                     message: "The upstream (gemini) answered HTTP \(status) with a body that is not JSON.")
                return (502, Array(e.openAIBody.utf8))
            }
            if !(200..<300).contains(status) {
                let e = object.object("error")
                let error = GatewayError(status: status, type: status >= 500 ? "server_error" : "invalid_request_error",
                                         code: e?.string("status"), message: "Upstream (gemini): " + (e?.string("message") ?? "HTTP \(status)"))
                return (status, Array(error.openAIBody.utf8))
            }
            noteUsage(object.object("usageMetadata"))
            complete = true
            let candidate = object.objects("candidates")?.first
            var text = ""
            var calls: [String] = []
            for part in candidate?.object("content")?.objects("parts") ?? [] {
                if part.bool("thought") == true { continue }
                if let t = part.string("text") { text += t }
                if let call = part.object("functionCall") {
                    calls.append("{\"id\":\"call_\(calls.count)\",\"type\":\"function\",\"function\":{\"name\":" + JSONWriter.quoted(call.string("name") ?? "")
                                 + ",\"arguments\":" + JSONWriter.quoted(call.compactJSON("args")) + "}}")
                }
            }
            let finish = Self.finishReason(candidate?.string("finishReason") ?? "STOP", calledTools: !calls.isEmpty) ?? "stop"
            var message = "{\"role\":\"assistant\",\"content\":" + (text.isEmpty && !calls.isEmpty ? "null" : JSONWriter.quoted(text))
            if !calls.isEmpty { message += ",\"tool_calls\":[" + calls.joined(separator: ",") + "]" }
            message += ",\"refusal\":null,\"annotations\":[]}"
            let responseID = object.string("responseId") ?? "gemini"
            let out = "{\"id\":" + JSONWriter.quoted("chatcmpl-" + responseID) + ",\"object\":\"chat.completion\",\"created\":\(writer.created),\"model\":" + JSONWriter.quoted(model)
                + ",\"choices\":[{\"index\":0,\"message\":" + message + ",\"logprobs\":null,\"finish_reason\":\"\(finish)\"}],\"usage\":" + OpenAIChunkWriter.usageJSON(usage)
                + ",\"system_fingerprint\":null}"
            return (200, Array(out.utf8))
        }
    }

    func translateChunk(_ buffer: ByteBuffer) -> [UInt8] {
        var out: [UInt8] = []
        for event in reader.events(buffer) {
            event.data.withUnsafeBytes { raw in translate(raw, into: &out) }
        }
        return out + reader.takeFailureEvent()
    }

    private func translate(_ raw: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        guard let object = JSONObjectView(document: raw) else { return }
        if let error = object.object("error") {
            errored = true
            let e = GatewayError(status: 502, type: "server_error", code: error.string("status") ?? "upstream_error",
                                 message: "Upstream (gemini) stream error: " + (error.string("message") ?? "unknown"))
            out += Array(("data: " + e.openAIBody + "\n\n").utf8)
            return
        }
        if !started {
            started = true
            if let rid = object.string("responseId") { writer.id = "chatcmpl-" + rid }
            out += writer.chunk(delta: "{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}")
        }
        noteUsage(object.object("usageMetadata"))
        let candidate = object.objects("candidates")?.first
        for part in candidate?.object("content")?.objects("parts") ?? [] {
            if part.bool("thought") == true { continue }
            if let t = part["text"], t.kind == .string, !t.isEmptyString {
                out += writer.chunk(delta: "{\"content\":" + String(decoding: part.bytes(t), as: UTF8.self) + "}")
            }
            if let call = part.object("functionCall") {
                out += writer.chunk(delta: "{\"tool_calls\":[{\"index\":\(toolCalls),\"id\":\"call_\(toolCalls)\",\"type\":\"function\",\"function\":{\"name\":"
                             + JSONWriter.quoted(call.string("name") ?? "") + ",\"arguments\":" + JSONWriter.quoted(call.compactJSON("args")) + "}}]}")
                toolCalls += 1
            }
        }
        if let finish = Self.finishReason(candidate?.string("finishReason"), calledTools: toolCalls > 0) {
            complete = true
            out += writer.chunk(delta: "{}", finish: finish)
        }
    }

    func finishStream() -> [UInt8] {
        guard !errored, streamFailure == nil else { return [] }
        // The upstream ended the stream cleanly: its last counts are final.
        complete = true
        var out = writer.usageChunk(usage)
        if let usage { out += usage.streamComment(price) }
        return out + Array("data: [DONE]\n\n".utf8)
    }

    private func noteUsage(_ u: JSONObjectView?) {
        guard let u else { return }
        let prompt = u.count("promptTokenCount") ?? 0
        let completion = Usage.sum(u.count("candidatesTokenCount") ?? 0, u.count("thoughtsTokenCount") ?? 0)
        latestUsage = Usage(promptTokens: prompt, completionTokens: completion, cachedTokens: u.count("cachedContentTokenCount") ?? 0)
    }
}
