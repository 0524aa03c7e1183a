/// What the mock needs from a `POST /v1/embeddings` body, validated like OpenAI: `input` is a
/// string, an array of strings, an array of token ids or an array of such arrays; `dimensions`
/// and `encoding_format` are honoured.
struct EmbeddingsRequest: Equatable {
    /// One input: a seed for its vector (a hash of its text or tokens) and its token count.
    struct Input: Equatable {
        var seed: UInt64
        var tokens: Int
    }

    /// Smaller than OpenAI's 1536 so that bodies stay small in tests and benchmarks; any
    /// `dimensions` up to `maxDimensions` is honoured.
    static let defaultDimensions = 256
    static let maxDimensions = 3072
    static let maxInputs = 2048

    var model: String
    var inputs: [Input] = []
    var dimensions = EmbeddingsRequest.defaultDimensions
    var base64 = false

    static func parse(_ view: JSONView, defaultModel: String? = nil) throws(OpenAIError) -> EmbeddingsRequest {
        let root = try view.openAIRoot()
        var request = EmbeddingsRequest(model: try view.openAIModel(of: root, defaultModel: defaultModel))
        guard let input = view.member("input", of: root) else { throw OpenAIError.missing("input") }
        request.inputs = try inputs(input, view)
        if let value = view.member("dimensions", of: root), value.kind != .null {
            guard let n = view.int(value) else { throw OpenAIError.invalidType("dimensions", expected: "an integer", got: value) }
            guard n >= 1 else { throw OpenAIError.belowMinimum("dimensions", minimum: 1, got: n) }
            guard n <= maxDimensions else { throw OpenAIError.aboveMaximum("dimensions", maximum: maxDimensions, got: n) }
            request.dimensions = n
        }
        if let value = view.member("encoding_format", of: root), value.kind != .null {
            switch view.string(value) {
            case "float": request.base64 = false
            case "base64": request.base64 = true
            case let other?:
                throw OpenAIError.invalidRequest("Invalid value: '\(other)'. Supported values are: 'float' and 'base64'.",
                                                 param: "encoding_format", code: "invalid_value")
            case nil:
                throw OpenAIError.invalidType("encoding_format", expected: "a string", got: value)
            }
        }
        return request
    }

    private static func inputs(_ input: JSONValue, _ view: JSONView) throws(OpenAIError) -> [Input] {
        switch input.kind {
        case .string:
            return [try text(input, param: "input", view)]
        case .array:
            let elements = view.elements(input)
            guard !elements.isEmpty else {
                throw OpenAIError.invalidRequest("Invalid 'input': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                                                 param: "input", code: "empty_array")
            }
            guard elements.count <= maxInputs else {
                throw OpenAIError.invalidRequest("Invalid 'input': array too long. Expected an array with maximum length \(maxInputs), but got an array with length \(elements.count) instead.",
                                                 param: "input", code: "array_above_max_length")
            }
            switch elements[0].kind {
            case .number:
                return [try tokens(input, elements, param: "input", view)]
            case .string:
                var out: [Input] = []
                for (i, element) in elements.enumerated() {
                    guard element.kind == .string else { throw OpenAIError.invalidType("input[\(i)]", expected: "a string", got: element) }
                    out.append(try text(element, param: "input[\(i)]", view))
                }
                return out
            case .array:
                var out: [Input] = []
                for (i, element) in elements.enumerated() {
                    guard element.kind == .array else { throw OpenAIError.invalidType("input[\(i)]", expected: "an array of integers", got: element) }
                    out.append(try tokens(element, view.elements(element), param: "input[\(i)]", view))
                }
                return out
            case .object, .bool, .null:
                throw OpenAIError.invalidType("input[0]", expected: "a string, an integer or an array of integers", got: elements[0])
            }
        case .object, .number, .bool, .null:
            throw OpenAIError.invalidType("input", expected: "a string or an array", got: input)
        }
    }

    private static func text(_ value: JSONValue, param: String, _ view: JSONView) throws(OpenAIError) -> Input {
        guard let text = view.string(value), !text.isEmpty else {
            throw OpenAIError.invalidRequest("Invalid '\(param)': empty string. Expected a string with minimum length 1.",
                                             param: param, code: "empty_string")
        }
        return Input(seed: EmbeddingVector.seed(text: text), tokens: max(1, MockText.estimatedTokens(byteCount: text.utf8.count)))
    }

    private static func tokens(_ array: JSONValue, _ elements: [JSONValue], param: String, _ view: JSONView) throws(OpenAIError) -> Input {
        guard !elements.isEmpty else {
            throw OpenAIError.invalidRequest("Invalid '\(param)': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                                             param: param, code: "empty_array")
        }
        var seed = EmbeddingVector.seedBasis
        for (i, element) in elements.enumerated() {
            guard let token = view.int(element), token >= 0 else {
                throw OpenAIError.invalidType("\(param)[\(i)]", expected: "a non-negative integer", got: element)
            }
            seed = EmbeddingVector.mix(seed, UInt64(token))
        }
        return Input(seed: seed, tokens: elements.count)
    }
}
