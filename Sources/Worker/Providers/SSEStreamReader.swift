import NIOCore
import TollgateCore

/// An upstream SSE stream as a response translator reads it: the `SSEParser` plus the first
/// failure (a line or event over `limits.max_sse_line_bytes`). The failure is kept for the
/// exchange (`ResponseTranslator.streamFailure`) and its error event, in the client front's
/// shape, is handed out once, after whatever the translator made of the same read.
struct SSEStreamReader {
    private var parser: SSEParser
    private let front: APIFront
    /// Why the stream cannot be read on, once it cannot.
    private(set) var failure: String?
    /// The error event of the failure, until `takeFailureEvent` hands it out.
    private var pendingFailureEvent: [UInt8] = []

    init(maxLineBytes: Int, front: APIFront) {
        parser = SSEParser(maxLineBytes: maxLineBytes)
        self.front = front
    }

    /// True between events: nothing of a partial line or event is held.
    var isAtBoundary: Bool { parser.isAtBoundary }

    /// The complete events in `buffer`; when the upstream breaks the stream, none, and the
    /// failure is recorded (the caller's output then ends with `takeFailureEvent()`).
    mutating func events(_ buffer: ByteBuffer) -> [SSEParser.Event] {
        do {
            return try parser.feed(buffer.readableBytesView)
        } catch {
            if failure == nil {
                failure = error.description
                pendingFailureEvent = Self.errorEvent(error.description, front: front)
            }
            return []
        }
    }

    /// The pending failure event (once; empty otherwise).
    mutating func takeFailureEvent() -> [UInt8] {
        defer { pendingFailureEvent = [] }
        return pendingFailureEvent
    }

    /// The error event that ends a stream of `front` the gateway cannot translate further.
    static func errorEvent(_ reason: String, front: APIFront) -> [UInt8] {
        let e = GatewayError(status: 502, type: "server_error", code: "upstream_stream_invalid",
                             message: "The upstream stream could not be read: \(reason). The response is incomplete.")
        switch front {
        case .openAI: return Array(("data: " + e.openAIBody + "\n\n").utf8)
        case .anthropic: return Array(("event: error\ndata: " + e.anthropicBody + "\n\n").utf8)
        }
    }
}
