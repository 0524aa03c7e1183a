#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TollgateCore

/// The OpenAI-format pieces every translating adapter emits (stream chunks, the final usage
/// chunk, the usage object), built in one place so that Anthropic, Gemini and Bedrock
/// responses reach OpenAI clients in exactly the same shape, field for field.
struct OpenAIChunkWriter {
    /// The completion id; adapters learn the upstream's id from the first event.
    var id: String
    let created = Int(time(nil))
    let model: String
    /// Whether the client asked for `stream_options.include_usage` (then every chunk carries
    /// `"usage":null` and a final chunk carries the usage).
    let includeUsage: Bool

    /// One `data: {chat.completion.chunk}` event with a single choice.
    func chunk(delta: String, finish: String? = nil) -> [UInt8] {
        var s = "data: {\"id\":" + JSONWriter.quoted(id) + ",\"object\":\"chat.completion.chunk\",\"created\":\(created),\"model\":"
            + JSONWriter.quoted(model) + ",\"system_fingerprint\":null,\"choices\":[{\"index\":0,\"delta\":" + delta
            + ",\"logprobs\":null,\"finish_reason\":" + (finish.map { "\"\($0)\"" } ?? "null") + "}]"
        if includeUsage { s += ",\"usage\":null" }
        return Array((s + "}\n\n").utf8)
    }

    /// The final usage chunk (`choices: []`), or nothing when the client did not ask for it.
    func usageChunk(_ usage: Usage?) -> [UInt8] {
        guard includeUsage else { return [] }
        return Array(("data: {\"id\":" + JSONWriter.quoted(id) + ",\"object\":\"chat.completion.chunk\",\"created\":\(created),\"model\":"
                      + JSONWriter.quoted(model) + ",\"system_fingerprint\":null,\"choices\":[],\"usage\":" + Self.usageJSON(usage) + "}\n\n").utf8)
    }

    /// OpenAI's `usage` object, details included.
    static func usageJSON(_ usage: Usage?) -> String {
        let u = usage ?? Usage(promptTokens: 0, completionTokens: 0, cachedTokens: 0)
        return "{\"prompt_tokens\":\(u.promptTokens),\"completion_tokens\":\(u.completionTokens),\"total_tokens\":\(u.promptTokens + u.completionTokens),"
            + "\"prompt_tokens_details\":{\"cached_tokens\":\(u.cachedTokens),\"audio_tokens\":0},"
            + "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}"
    }
}
