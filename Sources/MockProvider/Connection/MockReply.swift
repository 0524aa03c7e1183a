import NIOCore
import NIOHTTP1

/// What the mock does with one request, decided from the request alone before any I/O
/// (effects as data): the endpoints build it, `MockConnectionStateMachine` turns it into
/// timed steps, and `MockHTTPHandler` only performs those steps.
struct MockReply {
    enum Body {
        /// A whole body, sent with a `content-length`.
        case complete(ByteBuffer)
        /// A streamed body (chunked): the events are written every `pacing` (all at once when
        /// nil); with `resetAfter`, the connection is reset after that many events instead of
        /// the stream ending.
        case stream(MockEventBody, pacing: TimeAmount?, resetAfter: Int?)
        /// A head announcing `declaredLength` bytes, only these bytes of it, then a reset: an
        /// upstream that dies in the middle of a plain response.
        case truncated(ByteBuffer, declaredLength: Int)
        /// Close the connection with a TCP RST, without a response.
        case reset
        /// Never answer; keep the connection open.
        case hang
    }

    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: Body
    /// Time before the response head (or the reset).
    var delay: TimeAmount = .zero
    /// The model the request named, as sent (suffixes included), for the request log.
    var requestedModel: String?

    /// A complete JSON response.
    static func json(_ status: HTTPResponseStatus, _ body: ByteBuffer, headers: [(String, String)] = []) -> MockReply {
        var h = HTTPHeaders()
        h.add(name: "content-type", value: "application/json")
        for (name, value) in headers { h.add(name: name, value: value) }
        return MockReply(status: status, headers: h, body: .complete(body))
    }

    /// A `200` server-sent-event stream.
    static func eventStream(_ events: MockEventBody, contentType: String = "text/event-stream; charset=utf-8",
                            pacing: TimeAmount?, resetAfter: Int? = nil) -> MockReply {
        var h = HTTPHeaders()
        h.add(name: "content-type", value: contentType)
        h.add(name: "cache-control", value: "no-cache")
        return MockReply(status: .ok, headers: h, body: .stream(events, pacing: pacing, resetAfter: resetAfter))
    }

    /// This reply bent by `controls`: the latency before it, and a plain body cut short by a
    /// `midstream` fault (streams handle `midstream` themselves, when they are built).
    func applying(_ controls: MockControls) -> MockReply {
        var reply = self
        reply.delay = .milliseconds(Int64(controls.latencyMs))
        if let raw = controls.retryAfterRaw { reply.headers.replaceOrAdd(name: "retry-after", value: raw) }
        if let raw = controls.retryAfterMsRaw { reply.headers.replaceOrAdd(name: "retry-after-ms", value: raw) }
        if controls.hostileHeaders {
            reply.headers.add(name: "server", value: "mock-upstream/1.0")
            reply.headers.add(name: "openai-organization", value: "org-mock-secret")
            reply.headers.add(name: "x-ratelimit-remaining-requests", value: "999999")
            reply.headers.add(name: "x-tollgate-cost-usd", value: "0.0")
            reply.headers.add(name: "connection", value: "x-hop")
            reply.headers.add(name: "x-hop", value: "hop-by-hop")
            reply.headers.add(name: "set-cookie", value: "session=mock")
            reply.headers.add(name: "openai-processing-ms", value: "7")
        }
        if controls.fault == .midstream, case .complete(let body) = body {
            let half = body.getSlice(at: body.readerIndex, length: body.readableBytes / 2) ?? ByteBuffer()
            reply.body = .truncated(half, declaredLength: body.readableBytes)
        }
        return reply
    }

    /// Events of a stream with a `midstream` fault: a few, then the reset.
    static let midstreamEventCount = 3

    /// How long a paced stream waits between events under `controls` (nil: unpaced).
    static func pacing(_ controls: MockControls) -> TimeAmount? {
        controls.tokensPerSecond > 0 ? .nanoseconds(1_000_000_000 / Int64(controls.tokensPerSecond)) : nil
    }

    /// No response: the connection is reset.
    static var reset: MockReply { MockReply(status: .ok, headers: [:], body: .reset) }
    /// No response, ever.
    static var hang: MockReply { MockReply(status: .ok, headers: [:], body: .hang) }

    /// This reply with one more header.
    func adding(header name: String, value: String) -> MockReply {
        var reply = self
        reply.headers.add(name: name, value: value)
        return reply
    }
}
