import TollgateCore

/// Validates the body as one JSON object in a single pass (no Foundation, no object graph)
/// and finds the `model` value, whose byte range the proxy later rewrites in place.
struct RequestParsingFilter: RequestFilter {
    let name = "request-parsing"

    init(config: RuntimeConfig) {}

    func onRequest(_ context: RequestContext) -> FilterResult {
        let parsed: Result<(String, Range<Int>, Bool), GatewayError> = context.body.withUnsafeReadableBytes { raw in
            let index: JSONObjectIndex
            do {
                index = try JSONScanner.scanObject(raw)
            } catch {
                return .failure(.badRequest("We could not parse the JSON body of your request: \(error). The API expects a JSON object.", code: "invalid_json"))
            }
            guard let member = index.member("model", in: raw) else {
                return .failure(.badRequest("You must provide a model parameter.", code: "missing_model", param: "model"))
            }
            guard member.kind == .string, let name = JSONScanner.decodeString(raw, member.value), !name.isEmpty else {
                return .failure(.badRequest("The model parameter must be a non-empty string.", code: "invalid_model", param: "model"))
            }
            var includeUsage = false
            if let options = index.member("stream_options", in: raw), options.kind == .object,
               let nested = try? JSONScanner.scanObject(raw, in: options.value) {
                includeUsage = nested.bool("include_usage", in: raw) ?? false
            }
            return .success((name, member.value, includeUsage))
        }
        switch parsed {
        case .success(let (name, range, includeUsage)):
            context.modelName = name
            context.modelRange = range
            context.includeUsage = includeUsage
            return .proceed
        case .failure(let error):
            return .respond(error)
        }
    }
}
