import NIOCore
import TollgateCore

extension ChatRequest {
    /// Decodes a whole body: validation (one JSON object, unique keys, numbers in range, a
    /// model), then the top level. For bodies no filter has seen: a guardrail's redacted
    /// rewrite, the Anthropic front's translated request, tests and the benchmark.
    static func decode(_ body: ByteBuffer) -> Result<ChatRequest, GatewayError> {
        body.withUnsafeReadableBytes { raw in
            RequestParsingFilter.validate(raw, endpoint: .chatCompletions).map { v in
                decodeTopLevel(body: body, raw: raw, index: v.index, model: v.model, modelRange: v.modelRange)
            }
        }
    }

    static func decode(_ bytes: [UInt8]) -> Result<ChatRequest, GatewayError> {
        decode(ByteBuffer(bytes: bytes))
    }

    /// The top level of a body already validated by `RequestParsingFilter.validate` (`index`
    /// is its member list, `raw` the body's readable bytes): one pass over the members, no
    /// re-scan; nested objects (`stream_options`, `tool_choice`, `response_format`) are small.
    static func decodeTopLevel(body: ByteBuffer, raw: UnsafeRawBufferPointer, index: JSONObjectIndex,
                               model: String, modelRange: Range<Int>) -> ChatRequest {
        var r = ChatRequest(body: body, model: model, modelRange: modelRange)
        r.members.reserveCapacity(index.members.count)
        var maxTokens: Int?
        var maxCompletionTokens: Int?
        for m in index.members {
            let name = JSONMembers.key(m, raw)
            let span = JSONSpan(m)
            r.members.append(Member(name: name, value: span))
            guard m.kind != .null else { continue }
            switch name {
            case "stream": r.stream = JSONMembers.bool(raw, span) ?? false
            case "stream_options":
                r.streamOptionsRange = m.value
                if let nested = JSONMembers.object(raw, span), let include = nested.members.last(where: { JSONMembers.key($0, raw) == "include_usage" }) {
                    r.includeUsage = JSONMembers.bool(raw, JSONSpan(include)) ?? false
                }
            case "max_tokens": maxTokens = JSONMembers.int(raw, span)
            case "max_completion_tokens": maxCompletionTokens = JSONMembers.int(raw, span)
            case "temperature": r.temperature = number(raw, span)
            case "top_p": r.topP = number(raw, span)
            case "presence_penalty": r.presencePenalty = number(raw, span)
            case "frequency_penalty": r.frequencyPenalty = number(raw, span)
            case "n": r.n = JSONMembers.int(raw, span)
            case "seed": r.seed = JSONMembers.int(raw, span)
            case "logprobs": r.logprobs = JSONMembers.bool(raw, span)
            case "top_logprobs": r.topLogprobs = JSONMembers.int(raw, span)
            case "stop": r.stop = stopSequences(raw, span)
            case "parallel_tool_calls": r.parallelToolCalls = JSONMembers.bool(raw, span)
            case "user": r.user = JSONMembers.string(raw, span)
            case "metadata": r.metadata = span
            case "response_format": r.responseFormat = responseFormat(raw, span)
            case "tool_choice": r.toolChoice = toolChoice(raw, span)
            case "messages": r.messages = span
            case "tools": r.tools = span
            default: break
            }
        }
        r.maxTokens = maxCompletionTokens ?? maxTokens
        return r
    }

    private static func number(_ raw: UnsafeRawBufferPointer, _ span: JSONSpan) -> Number? {
        JSONMembers.double(raw, span).map { Number(value: $0, literal: span.range) }
    }

    /// A string, or an array of strings only (as `as? [String]` read it).
    private static func stopSequences(_ raw: UnsafeRawBufferPointer, _ span: JSONSpan) -> [String]? {
        if let s = JSONMembers.string(raw, span) { return [s] }
        guard let elements = JSONMembers.array(raw, span) else { return nil }
        var out: [String] = []
        out.reserveCapacity(elements.count)
        for e in elements {
            guard let s = JSONMembers.string(raw, JSONSpan(e)) else { return nil }
            out.append(s)
        }
        return out
    }

    private static func responseFormat(_ raw: UnsafeRawBufferPointer, _ span: JSONSpan) -> ResponseFormat? {
        guard let index = JSONMembers.object(raw, span) else { return nil }
        var format = ResponseFormat()
        for m in index.members {
            switch JSONMembers.key(m, raw) {
            case "type": format.type = JSONMembers.string(raw, JSONSpan(m))
            case "json_schema":
                if let nested = JSONMembers.object(raw, JSONSpan(m)), let schema = nested.members.last(where: { JSONMembers.key($0, raw) == "schema" }) {
                    format.schema = JSONSpan(schema)
                }
            default: break
            }
        }
        return format
    }

    private static func toolChoice(_ raw: UnsafeRawBufferPointer, _ span: JSONSpan) -> ToolChoice {
        if let s = JSONMembers.string(raw, span) { return .mode(s) }
        guard let index = JSONMembers.object(raw, span) else { return .other }
        guard let function = index.members.last(where: { JSONMembers.key($0, raw) == "function" }),
              let nested = JSONMembers.object(raw, JSONSpan(function)),
              let name = nested.members.last(where: { JSONMembers.key($0, raw) == "name" }) else {
            return .function(name: nil)
        }
        return .function(name: JSONMembers.string(raw, JSONSpan(name)))
    }
}
