import Guardrails
import Logging
import SharedState
import NIOCore
import NIOHTTP1
import TollgateCore

/// Response-side guardrails, layered over whatever translator the provider adapter chose, so
/// they see exactly what the client would: the client-format JSON body, or the client-format
/// SSE events (Gemini and Bedrock parts arrive here already as OpenAI/Anthropic events).
///
/// Whole bodies are scanned and redacted (or replaced by a 403 `guardrail_blocked` error).
/// Streams: every streamed text goes through its own `StreamGuard` — OpenAI
/// `choices[i].delta` `content`, `refusal`, `tool_calls[k].function.arguments` and legacy
/// `function_call.arguments`; Anthropic `text_delta`, `input_json_delta` (`partial_json`) and
/// `thinking_delta` per content block, and the strings of `content_block_start` — and the
/// event is re-emitted carrying only the text released so far.
///
/// Order: held-back text of a field is released (in an event of its own, before the current
/// one) as soon as an event of the same choice (OpenAI) or any structural event (Anthropic)
/// carries something else, so the client receives every field's text in upstream order.
/// A block ends the stream with an error event in the front's shape and drops everything after
/// it. Events are framed incrementally (each byte examined once) and capped at
/// `maxEventBytes`.
final class GuardedResponseTranslator: ResponseTranslator {
    /// Which streamed text a guard covers.
    enum Field: Int, Comparable {
        case content, refusal, toolArguments, functionArguments, text, partialJSON, thinking
        static func < (a: Field, b: Field) -> Bool { a.rawValue < b.rawValue }
    }

    /// One guarded text: a choice (OpenAI) or content block (Anthropic), a field, and for tool
    /// calls the call's index.
    struct Slot: Hashable, Comparable {
        var index: Int
        var field: Field
        var call: Int = 0
        static func < (a: Slot, b: Slot) -> Bool {
            (a.index, a.field.rawValue, a.call) < (b.index, b.field.rawValue, b.call)
        }
    }

    /// Default cap on one SSE event (bytes between blank lines).
    static let defaultMaxEventBytes = 4 << 20

    private let inner: any ResponseTranslator
    private let engine: GuardrailEngine
    private let front: APIFront
    private let document: GuardrailDocument?
    private let requestID: String
    private let logger: Logger
    private let counters: LabeledCounters?
    let maxEventBytes: Int
    /// Unframed bytes: `pending[eventStart...]` is the event being received.
    private var pending: [UInt8] = []
    private var eventStart = 0
    /// Where the blank-line search resumes (bytes before it hold no event end).
    private var searchFrom = 0
    private var streams: [Slot: StreamGuard] = [:]
    /// OpenAI: the last chunk's top-level members other than `choices`/`usage`, as raw
    /// `"key":value` bytes, for the events that carry released text on their own.
    private var envelope: [UInt8] = []
    private var blocked = false

    init(inner: any ResponseTranslator, engine: GuardrailEngine, endpoint: RequestContext.Endpoint, requestID: String, logger: Logger,
         counters: LabeledCounters? = nil, maxEventBytes: Int = GuardedResponseTranslator.defaultMaxEventBytes) {
        self.counters = counters
        self.inner = inner
        self.engine = engine
        self.front = endpoint.front
        switch endpoint {
        case .chatCompletions: document = .openAIChatResponse
        case .messages: document = .anthropicMessagesResponse
        case .embeddings, .countTokens: document = nil
        }
        self.requestID = requestID
        self.logger = logger
        self.maxEventBytes = max(1024, maxEventBytes)
    }

    var usage: Usage? { inner.usage }

    func mode(status: Int, headers: HTTPHeaders) -> TranslationMode {
        inner.mode(status: status, headers: headers)
    }

    func translateWhole(status: Int, body: [UInt8]) -> (status: Int, body: [UInt8]) {
        let (status, translated) = inner.translateWhole(status: status, body: body)
        guard (200..<300).contains(status), let document else { return (status, translated) }
        let result = GuardrailJSONRewriter.scan(translated, document: document, engine: engine, direction: .response)
        log(result.findings)
        switch result.verdict {
        case .block:
            let error = GatewayError.guardrailBlocked(result.findings.first { $0.effectiveAction == .block }, side: .response)
            return (error.status, Array(error.body(for: front).utf8))
        case .redact:
            return (status, result.body ?? translated)
        case .allow:
            return (status, translated)
        }
    }

    func translateChunk(_ buffer: ByteBuffer) -> [UInt8] {
        process(inner.translateChunk(buffer), final: false)
    }

    func finishStream() -> [UInt8] {
        process(inner.finishStream(), final: true)
    }

    // MARK: - Framing

    private func process(_ bytes: [UInt8], final: Bool) -> [UInt8] {
        guard document != nil, !blocked else { return blocked ? [] : bytes }
        pending += bytes
        var out: [UInt8] = []
        var i = max(searchFrom, eventStart)
        let n = pending.count
        while i + 1 < n {
            // An event ends at a blank line (LF LF or LF CR LF).
            guard pending[i] == 0x0A else {
                i += 1
                continue
            }
            var end = -1
            if pending[i + 1] == 0x0A {
                end = i + 2
            } else if pending[i + 1] == 0x0D {
                if i + 2 == n { break }          // the LF may still come
                if pending[i + 2] == 0x0A { end = i + 3 }
            }
            guard end > 0 else {
                i += 1
                continue
            }
            out += event(Array(pending[eventStart..<end]))
            eventStart = end
            i = end
            if blocked { return out }
        }
        searchFrom = i
        if n - eventStart > maxEventBytes {
            return out + endStream(.guardrailEventTooLarge(limit: maxEventBytes))
        }
        // Drop consumed bytes once they dominate the buffer: amortised O(1) per byte.
        if eventStart > 4096, eventStart * 2 > pending.count {
            pending.removeFirst(eventStart)
            searchFrom -= eventStart
            eventStart = 0
        }
        if final {
            if eventStart < pending.count { out += event(Array(pending[eventStart...])) }
            pending.removeAll()
            eventStart = 0
            searchFrom = 0
            if !blocked { out += flushAll() }
        }
        return out
    }

    // MARK: - Events

    /// One raw SSE event in, what to send for it out.
    private func event(_ block: [UInt8]) -> [UInt8] {
        guard let data = Self.dataRange(block) else { return block }
        if data.count == 6, block[data].elementsEqual("[DONE]".utf8) { return flushAllThen(block) }
        return block.withUnsafeBytes { raw -> [UInt8] in
            guard let top = try? JSONScanner.scanObject(raw, in: data) else { return block }
            switch front {
            case .openAI: return openAIEvent(block, raw, top)
            case .anthropic: return anthropicEvent(block, raw, top, data: data)
            }
        }
    }

    private func openAIEvent(_ block: [UInt8], _ raw: UnsafeRawBufferPointer, _ top: JSONObjectIndex) -> [UInt8] {
        guard let choices = top.member("choices", in: raw), choices.kind == .array,
              let elements = try? JSONScanner.scanArray(raw, in: choices.value), !elements.isEmpty else {
            return flushAllThen(block) // usage-only chunk: the text is over
        }
        envelope.removeAll(keepingCapacity: true)
        for m in top.members {
            let key = raw[m.key].elementsEqual("choices".utf8) || raw[m.key].elementsEqual("usage".utf8)
            if key { continue }
            if !envelope.isEmpty { envelope.append(UInt8(ascii: ",")) }
            envelope += raw[(m.key.lowerBound - 1)..<m.value.upperBound]
        }
        var prefix: [UInt8] = []
        var splices: [(Range<Int>, [UInt8])] = []
        for element in elements where element.kind == .object {
            guard let choice = try? JSONScanner.scanObject(raw, in: element.value) else { continue }
            let index = Self.clampedIndex(choice.int("index", in: raw))
            let finished = choice.member("finish_reason", in: raw).map { $0.kind != .null } ?? false
            var fed: [(Slot, Range<Int>)] = []
            var structural = finished
            if let delta = choice.member("delta", in: raw), delta.kind == .object,
               let d = try? JSONScanner.scanObject(raw, in: delta.value) {
                structural = structural || d.members.contains { !raw[$0.key].elementsEqual("role".utf8) }
                if let m = d.member("content", in: raw), m.kind == .string { fed.append((Slot(index: index, field: .content), m.value)) }
                if let m = d.member("refusal", in: raw), m.kind == .string { fed.append((Slot(index: index, field: .refusal), m.value)) }
                if let calls = d.member("tool_calls", in: raw), calls.kind == .array {
                    for (position, call) in ((try? JSONScanner.scanArray(raw, in: calls.value)) ?? []).enumerated() where call.kind == .object {
                        guard let c = try? JSONScanner.scanObject(raw, in: call.value) else { continue }
                        let k = c.member("index", in: raw) != nil ? Self.clampedIndex(c.int("index", in: raw)) : position
                        if let fn = c.member("function", in: raw), fn.kind == .object,
                           let f = try? JSONScanner.scanObject(raw, in: fn.value),
                           let args = f.member("arguments", in: raw), args.kind == .string {
                            fed.append((Slot(index: index, field: .toolArguments, call: k), args.value))
                        }
                    }
                }
                if let fn = d.member("function_call", in: raw), fn.kind == .object,
                   let f = try? JSONScanner.scanObject(raw, in: fn.value),
                   let args = f.member("arguments", in: raw), args.kind == .string {
                    fed.append((Slot(index: index, field: .functionArguments), args.value))
                }
            }
            if structural {
                let feeding = Set(fed.map(\.0))
                prefix += flush { $0.index == index && !feeding.contains($0) }
                if blocked { return prefix }
            }
            for (slot, range) in fed {
                guard let released = feed(slot, raw, range, finish: finished) else { return prefix + errorEvent() }
                splices.append((range, released))
            }
        }
        return prefix + Self.splice(block, splices)
    }

    private func anthropicEvent(_ block: [UInt8], _ raw: UnsafeRawBufferPointer, _ top: JSONObjectIndex, data: Range<Int>) -> [UInt8] {
        let type = top.string("type", in: raw)
        let index = Self.clampedIndex(top.int("index", in: raw))
        switch type {
        case "content_block_delta":
            guard let delta = top.member("delta", in: raw), delta.kind == .object,
                  let d = try? JSONScanner.scanObject(raw, in: delta.value) else { return block }
            let field: (String, Field)?
            switch d.string("type", in: raw) {
            case "text_delta": field = ("text", .text)
            case "input_json_delta": field = ("partial_json", .partialJSON)
            case "thinking_delta": field = ("thinking", .thinking)
            default: field = nil
            }
            guard let field, let m = d.member(field.0, in: raw), m.kind == .string else {
                // signature/citations deltas: structure, so whatever is held goes first.
                let prefix = flush { _ in true }
                return blocked ? prefix : prefix + block
            }
            let slot = Slot(index: index, field: field.1)
            let prefix = flush { $0 != slot }
            if blocked { return prefix }
            guard let released = feed(slot, raw, m.value, finish: false) else { return prefix + errorEvent() }
            return prefix + Self.splice(block, [(m.value, released)])
        case "content_block_start":
            let prefix = flush { _ in true }
            if blocked { return prefix }
            // Text a hostile upstream puts in the block header instead of deltas: one scan.
            let result = GuardrailJSONRewriter.scan(Array(block[data]), document: .anthropicContentBlockStart, engine: engine,
                                                    direction: .response)
            log(result.findings)
            switch result.verdict {
            case .block:
                return prefix + blockStream(result.findings.first { $0.effectiveAction == .block })
            case .redact:
                guard let body = result.body else { return prefix + block }
                return prefix + Array(block[..<data.lowerBound]) + body + Array(block[data.upperBound...])
            case .allow:
                return prefix + block
            }
        case "content_block_stop":
            let prefix = flush { $0.index == index }
            return blocked ? prefix : prefix + block
        case "message_delta", "message_stop", "error":
            return flushAllThen(block)
        default:
            return block // ping, message_start: no text, no effect on order
        }
    }

    // MARK: - Guards

    /// Feeds one field's text to its guard; the text to put in the event, or nil after a block.
    private func feed(_ slot: Slot, _ raw: UnsafeRawBufferPointer, _ range: Range<Int>, finish: Bool) -> [UInt8]? {
        guard let decoded = JSONScanner.decodeString(raw, range) else { return [] }
        var guardrail = streams[slot] ?? StreamGuard(engine: engine, direction: .response)
        var released: [UInt8] = []
        var actions = [guardrail.feed(Array(decoded.utf8))]
        if finish { actions.append(guardrail.finish()) }
        for action in actions {
            switch action {
            case .block(let finding):
                _ = blockStream(finding)
                return nil
            case .release(let text, let findings):
                released += text
                log(findings)
            }
        }
        if finish { streams[slot] = nil } else { streams[slot] = guardrail }
        return released
    }

    /// Finishes the guards `which` selects, in slot order: events carrying their held text.
    private func flush(_ which: (Slot) -> Bool) -> [UInt8] {
        var out: [UInt8] = []
        for slot in streams.keys.filter(which).sorted() {
            guard var guardrail = streams.removeValue(forKey: slot) else { continue }
            switch guardrail.finish() {
            case .block(let finding):
                return out + blockStream(finding)
            case .release(let text, let findings):
                log(findings)
                if !text.isEmpty { out += textEvent(slot, text) }
            }
        }
        return out
    }

    private func flushAll() -> [UInt8] {
        flush { _ in true }
    }

    /// Everything held, then `block` — unless the held text blocked the stream.
    private func flushAllThen(_ block: [UInt8]) -> [UInt8] {
        let out = flushAll()
        return blocked ? out : out + block
    }

    /// An event of the front's shape carrying `text` for `slot` alone.
    private func textEvent(_ slot: Slot, _ text: [UInt8]) -> [UInt8] {
        var quoted: [UInt8] = []
        JSONWriter.appendQuoted(String(decoding: text, as: UTF8.self), to: &quoted)
        let q = String(decoding: quoted, as: UTF8.self)
        switch front {
        case .openAI:
            let delta: String
            switch slot.field {
            case .refusal: delta = #"{"refusal":\#(q)}"#
            case .toolArguments: delta = #"{"tool_calls":[{"index":\#(slot.call),"function":{"arguments":\#(q)}}]}"#
            case .functionArguments: delta = #"{"function_call":{"arguments":\#(q)}}"#
            default: delta = #"{"content":\#(q)}"#
            }
            let head = envelope.isEmpty ? "" : String(decoding: envelope, as: UTF8.self) + ","
            return Array(#"data: {\#(head)"choices":[{"index":\#(slot.index),"delta":\#(delta),"finish_reason":null}]}"#.utf8) + [0x0A, 0x0A]
        case .anthropic:
            let delta: String
            switch slot.field {
            case .partialJSON: delta = #"{"type":"input_json_delta","partial_json":\#(q)}"#
            case .thinking: delta = #"{"type":"thinking_delta","thinking":\#(q)}"#
            default: delta = #"{"type":"text_delta","text":\#(q)}"#
            }
            return Array("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":\(slot.index),\"delta\":\(delta)}\n\n".utf8)
        }
    }

    /// The error event for the finding that blocked the stream (already recorded).
    private var blockingError: GatewayError?

    private func blockStream(_ finding: GuardrailFinding?) -> [UInt8] {
        if let finding { log([finding]) }
        return endStream(.guardrailBlocked(finding, side: .response))
    }

    private func endStream(_ error: GatewayError) -> [UInt8] {
        blocked = true
        blockingError = error
        streams.removeAll()
        pending.removeAll()
        eventStart = 0
        searchFrom = 0
        return errorEvent()
    }

    private func errorEvent() -> [UInt8] {
        guard let error = blockingError else { return [] }
        let prefix = front == .anthropic ? "event: error\ndata: " : "data: "
        return Array((prefix + error.body(for: front) + "\n\n").utf8)
    }

    // MARK: - Helpers

    /// An index from the upstream, kept in a range where it cannot trap or exhaust memory.
    static func clampedIndex(_ value: Int?) -> Int {
        min(max(value ?? 0, 0), 1 << 20)
    }

    /// The value of the event's `data:` line (single-line data, as every provider sends).
    static func dataRange(_ block: [UInt8]) -> Range<Int>? {
        var lineStart = 0
        while lineStart < block.count {
            var end = lineStart
            while end < block.count, block[end] != 0x0A { end += 1 }
            var lineEnd = end
            if lineEnd > lineStart, block[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            if lineEnd - lineStart >= 5, block[lineStart..<(lineStart + 5)].elementsEqual("data:".utf8) {
                var s = lineStart + 5
                if s < lineEnd, block[s] == 0x20 { s += 1 }
                return s..<lineEnd
            }
            lineStart = end + 1
        }
        return nil
    }

    /// `block` with each range (disjoint) replaced by its text as a JSON string literal.
    static func splice(_ block: [UInt8], _ replacements: [(Range<Int>, [UInt8])]) -> [UInt8] {
        guard !replacements.isEmpty else { return block }
        var out: [UInt8] = []
        out.reserveCapacity(block.count)
        var cursor = 0
        for (range, text) in replacements.sorted(by: { $0.0.lowerBound < $1.0.lowerBound }) {
            out += block[cursor..<range.lowerBound]
            JSONWriter.appendQuoted(String(decoding: text, as: UTF8.self), to: &out)
            cursor = range.upperBound
        }
        out += block[cursor...]
        return out
    }

    private func log(_ findings: [GuardrailFinding]) {
        GuardrailFindingLog.log(findings, side: .response, requestID: requestID, key: nil, logger: logger, counters: counters)
    }
}
