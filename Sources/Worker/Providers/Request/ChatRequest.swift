import NIOCore
import TollgateCore

/// One OpenAI Chat Completions request, decoded once: the gateway's lingua franca. The OpenAI
/// front's body is decoded into it by `RequestParsingFilter`; the Anthropic front's body is
/// translated into OpenAI's shape and decoded the same way; every stage and every request
/// translator (Anthropic, Gemini/Vertex, Bedrock) reads this value instead of parsing again.
///
/// The top level is decoded eagerly and cheaply (from the member index the validating scan
/// already built): the model, the sampling numbers (range-checked as `RequestNumbers` does),
/// `stream`/`stream_options`, `stop`, `user`, `tool_choice`, `response_format`, and every
/// member's name and span. `messages` and `tools`, which make up nearly all of an agent's
/// 100 KB, are decoded only when a translator asks (`decodeMessages()`, `decodeTools()`):
/// an OpenAI-compatible upstream gets the client's bytes, only `model` (and, for streams,
/// `stream_options`) spliced, so it never pays for them.
///
/// Values are `JSONSpan`s into `body` wherever the gateway only copies them (texts, schemas,
/// numbers): a translator writes them back as the bytes they are. No `[String: Any]`, no
/// Foundation.
struct ChatRequest {
    /// The body the spans point into (its readable bytes).
    let body: ByteBuffer

    var model: String
    /// The `model` value's range (quotes included), rewritten in place for OpenAI upstreams.
    var modelRange: Range<Int>
    var stream = false
    /// `stream_options.include_usage`.
    var includeUsage = false
    var streamOptionsRange: Range<Int>?
    /// `max_completion_tokens` when sent (OpenAI's current name wins), else `max_tokens`.
    var maxTokens: Int?
    var temperature: Number?
    var topP: Number?
    var presencePenalty: Number?
    var frequencyPenalty: Number?
    var n: Int?
    var seed: Int?
    var logprobs: Bool?
    var topLogprobs: Int?
    /// `stop` as a string or an array of strings (anything else reads as absent).
    var stop: [String]?
    var parallelToolCalls: Bool?
    var user: String?
    var metadata: JSONSpan?
    var responseFormat: ResponseFormat?
    var toolChoice: ToolChoice?
    var messages: JSONSpan?
    var tools: JSONSpan?
    /// Every top-level member in body order, `null`s included, for the translators' checks of
    /// what they can express.
    var members: [Member] = []

    /// A number as sent: its value for checks, its literal for writing it on unchanged.
    struct Number: Equatable {
        var value: Double
        var literal: Range<Int>
    }

    struct Member {
        var name: String
        var value: JSONSpan
    }

    enum ToolChoice: Equatable {
        /// `"auto"`, `"none"`, `"required"` or any other string (translators refuse those).
        case mode(String)
        /// `{"type":"function","function":{"name":…}}`; nil when no name is given.
        case function(name: String?)
        /// Some other JSON value.
        case other
    }

    struct ResponseFormat: Equatable {
        /// `type`, when it is a string.
        var type: String?
        /// `json_schema.schema`, when given.
        var schema: JSONSpan?
    }

    /// Runs `body` on the bytes the spans point into.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try self.body.withUnsafeReadableBytes(body)
    }

    /// The member named `name`, if present (the last one; keys are unique in a parsed body).
    func member(_ name: String) -> JSONSpan? {
        members.last { $0.name == name }?.value
    }
}
