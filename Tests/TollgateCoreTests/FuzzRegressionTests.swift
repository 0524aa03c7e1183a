import Testing
import TollgateCore

/// Inputs the libFuzzer targets (Fuzz/, docs/fuzzing.md) found, minimised, so `make test`
/// keeps them fixed.
@Suite struct FuzzRegressionTests {
    static func frame(_ type: String, _ payload: String) -> [UInt8] {
        EventStreamDecoder.encode(headers: [(":event-type", type), (":message-type", "event")], payload: Array(payload.utf8))
    }

    /// fuzz-eventstream: a good frame and a corrupt one in the same read lost the good one
    /// (`feed` threw for the whole read), while the same bytes in two reads delivered it: what
    /// the client got depended on TCP read boundaries.
    @Test func messagesBeforeACorruptFrameSurviveWhateverTheReads() throws {
        let good = Self.frame("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"Hel"}}"#)
        var corrupt = Self.frame("metadata", #"{"usage":{"inputTokens":5}}"#)
        corrupt[corrupt.count - 6] ^= 0x01  // payload byte: the message CRC no longer matches
        let stream = good + corrupt

        var whole = EventStreamDecoder()
        let once = whole.decode(stream)
        #expect(once.messages.count == 1 && once.messages.first?.payload == Array(#"{"contentBlockIndex":0,"delta":{"text":"Hel"}}"#.utf8))
        #expect(once.error == .messageChecksum)

        for cut in 1..<stream.count {
            var split = EventStreamDecoder()
            var messages: [EventStreamDecoder.Message] = []
            var error: EventStreamDecoder.DecodeError?
            for part in [stream[..<cut], stream[cut...]] where error == nil {
                let d = split.decode(part)
                messages += d.messages
                error = d.error
            }
            #expect(messages == once.messages && error == once.error, "cut at \(cut)")
        }

        // After the error the stream is over: later reads decode nothing and report it again.
        let after = whole.decode(Self.frame("messageStop", "{}"))
        #expect(after.messages.isEmpty && after.error == .messageChecksum)
        // `feed` keeps its throwing shape for callers that end the stream on any error.
        var thrower = EventStreamDecoder()
        #expect(throws: EventStreamDecoder.DecodeError.messageChecksum) { try thrower.feed(stream) }
    }

    /// A frame cut off by the end of the stream is visible to the caller, not silently dropped.
    @Test func aTruncatedFrameIsReportedAsPendingBytes() {
        let f = Self.frame("messageStop", #"{"stopReason":"end_turn"}"#)
        var d = EventStreamDecoder()
        let r = d.decode(f.dropLast(3))
        #expect(r.messages.isEmpty && r.error == nil && d.pendingByteCount == f.count - 3)
        let rest = d.decode(f.suffix(3))
        #expect(rest.messages.count == 1 && d.pendingByteCount == 0)
    }
}
