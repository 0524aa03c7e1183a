#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import Testing
import TollgateCore
@testable import Worker

/// The stream parsers that see upstream bytes are linear and capped: a 1 MB worst case costs at
/// most 15× the 100 KB one (min of a few runs on a monotonic clock), and a line or frame over
/// its cap ends the stream with the front's error event.
///
/// Timed with the thread's CPU clock (`CLOCK_THREAD_CPUTIME_ID`, monotonic): on a loaded build
/// machine a 30 ms run is preempted and wall time grows with the other processes' load, while
/// the CPU time this thread spent is what the parser costs.
@Suite(.serialized) struct StreamParserLimitTests {
    static func cpuNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// CPU nanoseconds of the fastest of `reps` runs of `body`.
    static func fastest(reps: Int = 5, _ body: () throws -> Void) rethrows -> UInt64 {
        var best = UInt64.max
        for _ in 0..<reps {
            let start = cpuNanoseconds()
            try body()
            best = min(best, cpuNanoseconds() - start)
        }
        return best
    }

    /// Feeds `input` in 1 KiB reads (the worst split for a rescanning parser).
    static func feedSSE(_ input: [UInt8], cap: Int = 64 * 1024 * 1024) throws -> Int {
        var parser = SSEParser(maxLineBytes: cap)
        var events = 0
        var i = 0
        while i < input.count {
            events += try parser.feed(input[i..<min(input.count, i + 1024)]).count
            i += 1024
        }
        return events
    }

    /// cost(1 MB) / cost(100 KB) of `run`, each the fastest of `reps` runs. The two sizes are
    /// measured alternately, so a burst of load from other processes hits both alike.
    static func ratio(reps: Int = 15, _ make: (Int) -> [UInt8], _ run: ([UInt8]) throws -> Void) throws -> Double {
        let small = make(100 * 1024)
        let large = make(1024 * 1024)
        // Warm both up: the first megabyte-sized buffers come from fresh mmap'd pages (glibc
        // raises its mmap threshold after freeing them), whose page faults are not the parser's.
        try run(small)
        try run(large)
        var a = UInt64.max
        var b = UInt64.max
        for _ in 0..<reps {
            a = min(a, try fastest(reps: 1) { try run(small) })
            b = min(b, try fastest(reps: 1) { try run(large) })
        }
        let r = Double(b) / Double(max(a, 1))
        print("linear-time ratio 1MB/100KB: \(r) (\(a) ns vs \(b) ns CPU)")
        return r
    }

    @Test func sseOneLongDataLineIsLinear() throws {
        let r = try Self.ratio({ n in Array("data: ".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: n) + Array("\n\n".utf8) }) {
            let events = try Self.feedSSE($0)
            #expect(events == 1)
        }
        #expect(r <= 15, "SSE long line: 1 MB cost \(r)× the 100 KB one")
    }

    @Test func sseManyDataLinesOfOneEventAreLinear() throws {
        let r = try Self.ratio({ n in Array(String(repeating: "data: x\n", count: n / 8).utf8) + [0x0A] }) {
            let events = try Self.feedSSE($0)
            #expect(events == 1)
        }
        #expect(r <= 15, "SSE many lines: 1 MB cost \(r)× the 100 KB one")
    }

    @Test func eventStreamOneLargeFrameIsLinear() throws {
        let r = try Self.ratio({ n in
            EventStreamDecoder.encode(headers: [(":event-type", "contentBlockDelta")], payload: [UInt8](repeating: 0x61, count: n))
        }) { frame in
            var decoder = EventStreamDecoder(maxMessageBytes: 16 * 1024 * 1024)
            var got = 0
            var i = 0
            while i < frame.count {
                got += try decoder.feed(frame[i..<min(frame.count, i + 1024)]).count
                i += 1024
            }
            #expect(got == 1)
        }
        #expect(r <= 15, "event-stream frame: 1 MB cost \(r)× the 100 KB one")
    }

    @Test func anSSELineOverTheCapFailsAndHoldsNothing() throws {
        var parser = SSEParser(maxLineBytes: 1000)
        #expect(try parser.feed(Array("data: ok\n\n".utf8)).count == 1)
        #expect(throws: SSEParser.Failure.lineTooLong(limit: 1000)) {
            for _ in 0..<10 { _ = try parser.feed([UInt8](repeating: 0x61, count: 200)) }
        }
        #expect(!parser.isAtBoundary)
        #expect(throws: SSEParser.Failure.lineTooLong(limit: 1000)) { _ = try parser.feed(Array("\n\n".utf8)) }
        // An event assembled from many short data lines counts as a whole.
        var lines = SSEParser(maxLineBytes: 1000)
        #expect(throws: SSEParser.Failure.self) { _ = try lines.feed(Array(String(repeating: "data: 0123456789\n", count: 200).utf8)) }
    }

    @Test func aFrameOverTheCapFailsFromItsPrelude() throws {
        let frame = EventStreamDecoder.encode(headers: [(":event-type", "x")], payload: [UInt8](repeating: 0x61, count: 5000))
        var decoder = EventStreamDecoder(maxMessageBytes: 4096)
        #expect(throws: EventStreamDecoder.DecodeError.tooLarge(frame.count, limit: 4096)) { _ = try decoder.feed(frame.prefix(12)) }
    }

    @Test func translatorsEndTheStreamWithTheFrontsErrorEvent() {
        let long = ByteBuffer(string: "data: " + String(repeating: "x", count: 5000))
        let openAI = OpenAIUsageMeter(price: nil, forwardUsageChunk: false, maxLineBytes: 4096)
        let out = String(buffer: openAI.relayChunk(long))
        #expect(out.hasPrefix("data: {\"error\":") && out.contains("upstream_stream_invalid") && out.contains("max_sse_line_bytes"))
        #expect(openAI.streamFailure != nil)
        #expect(openAI.relayChunk(ByteBuffer(string: "more\n\n")).readableBytes == 0)

        let anthropic = AnthropicUsageMeter(price: nil, maxLineBytes: 4096)
        let a = String(decoding: anthropic.translateChunk(long), as: UTF8.self)
        #expect(a.hasPrefix("event: error\ndata: {\"type\":\"error\""))
        #expect(anthropic.streamFailure != nil)

        for translator in [AnthropicResponseTranslator(publicModel: "m", includeUsage: false, maxLineBytes: 4096) as any ResponseTranslator,
                           GeminiResponseTranslator(publicModel: "m", includeUsage: false, price: nil, maxLineBytes: 4096),
                           OpenAIToAnthropicResponse(publicModel: "m", price: nil, maxLineBytes: 4096)] {
            let text = String(decoding: translator.translateChunk(long), as: UTF8.self)
            #expect(text.contains("max_sse_line_bytes") && text.contains("error"), "\(type(of: translator))")
            #expect(translator.streamFailure != nil)
            #expect(translator.finishStream().isEmpty, "no [DONE] after a broken stream")
        }

        let bedrock = BedrockResponseTranslator(publicModel: "m", includeUsage: false, price: nil, maxFrameBytes: 1024)
        let frame = EventStreamDecoder.encode(headers: [(":event-type", "contentBlockDelta")], payload: [UInt8](repeating: 0x61, count: 2000))
        let b = String(decoding: bedrock.translateChunk(ByteBuffer(bytes: frame)), as: UTF8.self)
        #expect(b.contains("max_event_frame_bytes") && bedrock.streamFailure != nil)
    }
}
