import TollgateCore

/// The numeric request parameters of each front, range-checked before anything reads them.
///
/// Every number a client sends ends up somewhere: in a quota estimate, a translated body, a
/// provider's parameter. Checked here once, the rest of the request path can take them as
/// they are (no `max_tokens` of 2^63 reaches the estimate's arithmetic, no temperature of
/// 1e308 reaches a translator), and the client gets a 400 in its own front's shape naming the
/// parameter, as the provider itself would answer. `null` counts as absent, as the APIs treat
/// it. The ranges are the providers' documented ones; integer parameters take integer
/// literals only (OpenAI refuses `1.0` for them too).
enum RequestNumbers {
    enum Kind {
        case integer(ClosedRange<Int>)
        case number(ClosedRange<Double>)
    }

    struct Parameter {
        let name: String
        let kind: Kind
        /// `name`'s bytes, compared against member keys without allocating.
        let utf8: [UInt8]

        init(name: String, kind: Kind) {
            self.name = name
            self.kind = kind
            self.utf8 = Array(name.utf8)
        }

        func matches(_ key: Range<Int>, in raw: UnsafeRawBufferPointer) -> Bool {
            guard key.count == utf8.count else { return false }
            var j = 0
            for i in key {
                if raw[i] != utf8[j] { return false }
                j += 1
            }
            return true
        }
    }

    /// The most output tokens a request may ask for (no model comes near; it only keeps the
    /// number a sane integer).
    static let maxOutputTokens = Int(Int32.max)

    static let chat: [Parameter] = [
        .init(name: "max_tokens", kind: .integer(1...maxOutputTokens)),
        .init(name: "max_completion_tokens", kind: .integer(1...maxOutputTokens)),
        .init(name: "n", kind: .integer(1...128)),
        .init(name: "temperature", kind: .number(0...2)),
        .init(name: "top_p", kind: .number(0...1)),
        .init(name: "presence_penalty", kind: .number(-2...2)),
        .init(name: "frequency_penalty", kind: .number(-2...2)),
        .init(name: "top_logprobs", kind: .integer(0...20)),
        .init(name: "seed", kind: .integer(Int.min...Int.max)),
    ]
    static let embeddings: [Parameter] = [
        .init(name: "dimensions", kind: .integer(1...65_536)),
    ]
    static let messages: [Parameter] = [
        .init(name: "max_tokens", kind: .integer(1...maxOutputTokens)),
        .init(name: "temperature", kind: .number(0...1)),
        .init(name: "top_p", kind: .number(0...1)),
        .init(name: "top_k", kind: .integer(0...maxOutputTokens)),
    ]

    static func parameters(for endpoint: RequestContext.Endpoint) -> [Parameter] {
        switch endpoint {
        case .chatCompletions: return chat
        case .embeddings: return embeddings
        case .messages: return messages
        case .countTokens: return []
        }
    }

    /// The first parameter of `endpoint` that is present and out of range or of the wrong
    /// type, as the 400 to answer; nil when all are fine. One pass over the members, no
    /// allocation unless a parameter is present (keys are unique: duplicates were refused).
    static func check(_ index: JSONObjectIndex, in raw: UnsafeRawBufferPointer, endpoint: RequestContext.Endpoint) -> GatewayError? {
        let wanted = parameters(for: endpoint)
        guard !wanted.isEmpty else { return nil }
        for member in index.members where member.kind != .null {
            let parameter: Parameter?
            if member.keyHasEscape {
                let key = JSONScanner.decodeString(raw, (member.key.lowerBound - 1)..<(member.key.upperBound + 1))
                parameter = wanted.first { $0.name == key }
            } else {
                parameter = wanted.first { $0.matches(member.key, in: raw) }
            }
            guard let parameter else { continue }
            if let problem = problem(member, in: raw, kind: parameter.kind) {
                return .badRequest("Invalid '\(parameter.name)': \(problem).", code: "invalid_value", param: parameter.name)
            }
        }
        return nil
    }

    static func problem(_ member: JSONObjectIndex.Member, in raw: UnsafeRawBufferPointer, kind: Kind) -> String? {
        let literal = member.kind == .number ? String(decoding: UnsafeRawBufferPointer(rebasing: raw[member.value]), as: UTF8.self) : nil
        switch kind {
        case .integer(let range):
            let expected = range == Int.min...Int.max ? "a 64-bit integer" : "an integer from \(range.lowerBound) to \(range.upperBound)"
            guard let literal else { return "expected \(expected), got a \(describe(member.kind))" }
            guard let value = Int(literal) else {
                return "expected \(expected), got \(literal.prefix(40))"
            }
            return range.contains(value) ? nil : "expected \(expected), got \(value)"
        case .number(let range):
            let expected = "a number from \(format(range.lowerBound)) to \(format(range.upperBound))"
            guard let literal else { return "expected \(expected), got a \(describe(member.kind))" }
            guard let value = Double(literal), value.isFinite, range.contains(value) else {
                return "expected \(expected), got \(literal.prefix(40))"
            }
            return nil
        }
    }

    private static func describe(_ kind: JSONValueKind) -> String {
        switch kind {
        case .object: return "object"
        case .array: return "array"
        case .string: return "string"
        case .number: return "number"
        case .bool: return "boolean"
        case .null: return "null"
        }
    }

    private static func format(_ d: Double) -> String {
        d == d.rounded() ? String(Int(d)) : String(d)
    }
}
