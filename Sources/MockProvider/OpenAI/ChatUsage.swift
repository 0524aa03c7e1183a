import NIOCore

/// Token counts of one completion, written as OpenAI's `CompletionUsage` with both detail
/// objects and every counter in them (zeros: the mock caches, reasons and predicts nothing).
struct ChatUsage: Equatable {
    var promptTokens: Int
    var completionTokens: Int
    /// `usage_raw`: a JSON number literal written for every count instead.
    var raw: String? = nil

    func write(into b: inout ByteBuffer) {
        if let raw {
            b.writeString("{\"prompt_tokens\":\(raw),\"completion_tokens\":\(raw),\"total_tokens\":\(raw),\"prompt_tokens_details\":{\"cached_tokens\":\(raw)}}")
            return
        }
        b.writeStaticString("{\"prompt_tokens\":")
        b.writeJSONInt(promptTokens)
        b.writeStaticString(",\"completion_tokens\":")
        b.writeJSONInt(completionTokens)
        b.writeStaticString(",\"total_tokens\":")
        b.writeJSONInt(promptTokens + completionTokens)
        b.writeStaticString(",\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0}")
        b.writeStaticString(",\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,")
        b.writeStaticString("\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}")
    }
}
