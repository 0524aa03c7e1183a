import TollgateCore

/// Validates the body as one JSON object in a single pass (no Foundation, no object graph)
/// and finds the `model` value, whose byte range the proxy later rewrites in place. A chat
/// completion's body is decoded into the `ChatRequest` every later stage and translator
/// reads (its top level, from the same scan; messages and tools when a translator needs them).
///
/// A top-level key that occurs twice is refused: parsers disagree on which copy wins (this
/// scanner would authorise one `model` while a provider reads the other), so the request is
/// ambiguous. Numeric parameters are range-checked (`RequestNumbers`). `max_tokens` and
/// `max_completion_tokens`: when both are sent, `max_completion_tokens` (OpenAI's current
/// name) wins, here for the quota estimate and in every translator.
struct RequestParsingFilter: RequestFilter {
    let name = "request-parsing"

    struct Parsed {
        var model: String
        var modelRange: Range<Int>
        var stream: Bool
        var includeUsage = false
        var streamOptionsRange: Range<Int>?
        /// `max_completion_tokens` (OpenAI), else `max_tokens` (both fronts), for quota estimates.
        var maxTokens: Int?
        var chat: ChatRequest?
    }

    /// A body that passed the checks every front shares.
    struct Validated {
        var index: JSONObjectIndex
        var model: String
        var modelRange: Range<Int>
    }

    init(config: RuntimeConfig) {}

    /// One JSON object, each key once, numbers in `endpoint`'s ranges, a non-empty string model.
    static func validate(_ raw: UnsafeRawBufferPointer, endpoint: RequestContext.Endpoint) -> Result<Validated, GatewayError> {
        let index: JSONObjectIndex
        do {
            index = try JSONScanner.scanObject(raw)
        } catch {
            return .failure(.badRequest("We could not parse the JSON body of your request: \(error). The API expects a JSON object.", code: "invalid_json"))
        }
        if let key = index.duplicateKey(in: raw) {
            return .failure(.badRequest("The request body has the key '\(key.prefix(64))' more than once; send each parameter once.",
                                        code: "duplicate_key", param: String(key.prefix(64))))
        }
        if let error = RequestNumbers.check(index, in: raw, endpoint: endpoint) {
            return .failure(error)
        }
        guard let member = index.member("model", in: raw) else {
            return .failure(.badRequest("You must provide a model parameter.", code: "missing_model", param: "model"))
        }
        guard member.kind == .string, let name = JSONScanner.decodeString(raw, member.value), !name.isEmpty else {
            return .failure(.badRequest("The model parameter must be a non-empty string.", code: "invalid_model", param: "model"))
        }
        return .success(Validated(index: index, model: name, modelRange: member.value))
    }

    func onRequest(_ context: RequestContext) -> FilterResult {
        let body = context.body
        let endpoint = context.endpoint
        let parsed: Result<Parsed, GatewayError> = body.withUnsafeReadableBytes { raw in
            Self.validate(raw, endpoint: endpoint).map { (v: Validated) -> Parsed in
                if endpoint == .chatCompletions {
                    let chat = ChatRequest.decodeTopLevel(body: body, raw: raw, index: v.index, model: v.model, modelRange: v.modelRange)
                    return Parsed(model: chat.model, modelRange: chat.modelRange, stream: chat.stream, includeUsage: chat.includeUsage,
                                  streamOptionsRange: chat.streamOptionsRange, maxTokens: chat.maxTokens, chat: chat)
                }
                let index = v.index
                var parsed = Parsed(model: v.model, modelRange: v.modelRange, stream: index.bool("stream", in: raw) ?? false)
                parsed.maxTokens = index.int("max_completion_tokens", in: raw) ?? index.int("max_tokens", in: raw)
                if let options = index.member("stream_options", in: raw) {
                    parsed.streamOptionsRange = options.value
                    if options.kind == .object, let nested = try? JSONScanner.scanObject(raw, in: options.value) {
                        parsed.includeUsage = nested.bool("include_usage", in: raw) ?? false
                    }
                }
                return parsed
            }
        }
        switch parsed {
        case .success(let p):
            context.modelName = p.model
            context.modelRange = p.modelRange
            context.stream = p.stream
            context.includeUsage = p.includeUsage
            context.streamOptionsRange = p.streamOptionsRange
            context.maxTokens = p.maxTokens
            context.chatRequest = p.chat
            return .proceed
        case .failure(let error):
            return .respond(error)
        }
    }
}
