import Guardrails
import Logging
import SharedState
import NIOCore
import NIOHTTP1
import TollgateCore

/// Response-side guardrails, layered over whatever translator the provider adapter chose, so
/// they see exactly what the client would: the client-format JSON body, or the client-format
/// SSE events.
///
/// Whole bodies are scanned and redacted (or replaced by a 403 `guardrail_blocked` error).
/// Streams: each text delta (OpenAI `choices[i].delta.content`, Anthropic `text_delta`) goes
/// through a `StreamGuard` per choice/content block, and the event is re-emitted carrying
/// only the text released so far; held-back text rides on the event that ends the text
/// (finish_reason, `content_block_stop`, `[DONE]`) or a copy of the last text event. A block
/// ends the stream with an error event in the front's shape and drops everything after it.
final class GuardedResponseTranslator: ResponseTranslator {
    private struct TextStream {
        var guardrail: StreamGuard
        /// The last text event and where its text value sits: the shape for flushed text.
        var template: [UInt8]
        var textRange: Range<Int>
    }

    private let inner: any ResponseTranslator
    private let engine: GuardrailEngine
    private let front: APIFront
    private let document: GuardrailDocument?
    private let requestID: String
    private let logger: Logger
    private let counters: LabeledCounters?
    private var pending: [UInt8] = []
    private var streams: [Int: TextStream] = [:]
    private var blocked = false

    init(inner: any ResponseTranslator, engine: GuardrailEngine, endpoint: RequestContext.Endpoint, requestID: String, logger: Logger,
         counters: LabeledCounters? = nil) {
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

    // MARK: - Streams

    private func process(_ bytes: [UInt8], final: Bool) -> [UInt8] {
        guard document != nil, !blocked else { return blocked ? [] : bytes }
        pending += bytes
        var out: [UInt8] = []
        var start = 0
        var i = 0
        while i + 1 < pending.count {
            // An event ends at a blank line (LF LF or CRLF CRLF).
            if pending[i] == 0x0A, pending[i + 1] == 0x0A || (pending[i + 1] == 0x0D && i + 2 < pending.count && pending[i + 2] == 0x0A) {
                let end = pending[i + 1] == 0x0A ? i + 2 : i + 3
                out += event(Array(pending[start..<end]))
                if blocked { break }
                start = end
                i = end
                continue
            }
            i += 1
        }
        pending.removeFirst(blocked ? pending.count : start)
        if final, !blocked {
            if !pending.isEmpty { out += event(pending) }
            pending.removeAll()
            if !blocked { out += flushAll() }
        }
        return out
    }

    /// One raw SSE event in, what to send for it out.
    private func event(_ block: [UInt8]) -> [UInt8] {
        guard let data = Self.dataRange(block) else { return block }
        if data.count == 6, block[data].elementsEqual("[DONE]".utf8) { return flushAll() + block }
        return block.withUnsafeBytes { raw -> [UInt8] in
            guard let top = try? JSONScanner.scanObject(raw, in: data) else { return block }
            switch front {
            case .openAI:
                guard let choices = top.member("choices", in: raw), choices.kind == .array,
                      let first = (try? JSONScanner.scanArray(raw, in: choices.value))?.first, first.kind == .object,
                      let choice = try? JSONScanner.scanObject(raw, in: first.value) else {
                    return flushAll() + block // usage-only chunk: the text is over
                }
                let index = choice.int("index", in: raw) ?? 0
                let finished = choice.member("finish_reason", in: raw).map { $0.kind != .null } ?? false
                if let delta = choice.member("delta", in: raw), delta.kind == .object,
                   let d = try? JSONScanner.scanObject(raw, in: delta.value),
                   let content = d.member("content", in: raw), content.kind == .string {
                    return text(block, raw, content.value, index: index, finish: finished)
                }
                return finished ? flush(index) + block : block
            case .anthropic:
                let type = top.string("type", in: raw)
                let index = top.int("index", in: raw) ?? 0
                if type == "content_block_delta", let delta = top.member("delta", in: raw), delta.kind == .object,
                   let d = try? JSONScanner.scanObject(raw, in: delta.value), d.string("type", in: raw) == "text_delta",
                   let text = d.member("text", in: raw), text.kind == .string {
                    return self.text(block, raw, text.value, index: index, finish: false)
                }
                if type == "content_block_stop" { return flush(index) + block }
                if type == "message_delta" || type == "message_stop" { return flushAll() + block }
                return block
            }
        }
    }

    /// A text delta: feed it, re-emit the event with the released text only.
    private func text(_ block: [UInt8], _ raw: UnsafeRawBufferPointer, _ range: Range<Int>, index: Int, finish: Bool) -> [UInt8] {
        guard let decoded = JSONScanner.decodeString(raw, range) else { return [] }
        var stream = streams[index] ?? TextStream(guardrail: StreamGuard(engine: engine, direction: .response), template: block, textRange: range)
        stream.template = block
        stream.textRange = range
        var released: [UInt8] = []
        for action in [stream.guardrail.feed(Array(decoded.utf8))] + (finish ? [stream.guardrail.finish()] : []) {
            switch action {
            case .block(let finding):
                return blockStream(finding)
            case .release(let text, let findings):
                released += text
                log(findings)
            }
        }
        streams[index] = stream
        return Self.splice(block, range, released)
    }

    private func flush(_ index: Int) -> [UInt8] {
        guard var stream = streams[index] else { return [] }
        let action = stream.guardrail.finish()
        streams[index] = stream
        switch action {
        case .block(let finding):
            return blockStream(finding)
        case .release(let text, let findings):
            log(findings)
            return text.isEmpty ? [] : Self.splice(stream.template, stream.textRange, text)
        }
    }

    private func flushAll() -> [UInt8] {
        var out: [UInt8] = []
        for index in streams.keys.sorted() {
            out += flush(index)
            if blocked { return out }
        }
        return out
    }

    private func blockStream(_ finding: GuardrailFinding) -> [UInt8] {
        blocked = true
        log([finding])
        let error = GatewayError.guardrailBlocked(finding, side: .response)
        let prefix = front == .anthropic ? "event: error\ndata: " : "data: "
        return Array((prefix + error.body(for: front) + "\n\n").utf8)
    }

    // MARK: - Helpers

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

    static func splice(_ block: [UInt8], _ range: Range<Int>, _ text: [UInt8]) -> [UInt8] {
        var quoted: [UInt8] = []
        JSONWriter.appendQuoted(String(decoding: text, as: UTF8.self), to: &quoted)
        return Array(block[..<range.lowerBound]) + quoted + Array(block[range.upperBound...])
    }

    private func log(_ findings: [GuardrailFinding]) {
        GuardrailFindingLog.log(findings, side: .response, requestID: requestID, key: nil, logger: logger, counters: counters)
    }
}
