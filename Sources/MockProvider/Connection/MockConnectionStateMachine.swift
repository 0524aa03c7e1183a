import NIOCore
import NIOHTTP1

/// The life of one mock connection: collect a request, then play its `MockReply` step by step
/// (latency, head, body or paced events, end or reset), then wait for the next request.
///
/// Pure: no clock, no I/O. `MockHTTPHandler` feeds it the request parts and timer expiries
/// and performs the `Action` each call returns. After `writeHead` and `writeBody` the handler
/// calls `next()` for the following step; every other action ends the turn until the next
/// event (a read, or the timer asked for by `wait`). Requests are handled one at a time
/// (`HTTPServerPipelineHandler` holds back pipelined ones until a response has ended).
struct MockConnectionStateMachine {
    enum Action {
        case none
        /// Write and flush this interim `100 Continue`: the client holds its body back until then.
        case writeContinue(HTTPResponseHead)
        /// A complete request: build its `MockReply` and pass it to `startReply`.
        case route(MockRequest)
        /// Call `timerFired()` after this long.
        case wait(TimeAmount)
        /// Write (don't flush) the head, then call `next()`.
        case writeHead(HTTPResponseHead)
        /// Write and flush these body bytes, then call `next()`.
        case writeBody(ByteBuffer)
        /// Write these bytes (if any) and the end, flush, and close once written if asked to.
        /// The request is done.
        case writeEnd(ByteBuffer?, closeAfter: Bool)
        /// Close the connection abruptly (TCP RST).
        case reset
        /// Nothing, ever: the connection hangs until the peer gives up.
        case hang
    }

    /// A request body larger than this is refused with a 413 and the connection closed.
    static let maxRequestBodyBytes = 32 * 1024 * 1024
    /// How long a part-sent response stays open before its reset when no pacing applies, so
    /// the peer reads what was sent before it sees the reset.
    static let resetPause: TimeAmount = .milliseconds(20)

    private enum State {
        case idle
        case receiving(HTTPRequestHead, ByteBuffer?)
        /// The request was handed out with `.route`; its reply is being built.
        case routing(HTTPRequestHead)
        case replying(Playback)
        case hung
        case closed
    }

    private enum Phase {
        case start
        case delaying
        case ready
        /// Head written, and `n` events (or the partial body, as 1) after it.
        case sent(Int)
        /// Timer running before event `n`.
        case waiting(Int)
        /// Timer running before the reset.
        case resetPause
    }

    private struct Playback {
        var reply: MockReply
        var head: HTTPResponseHead
        var closeAfter: Bool
        var phase: Phase = .start
    }

    private var state: State = .idle

    mutating func receivedHead(_ head: HTTPRequestHead) -> Action {
        guard case .idle = state else { return .none }
        state = .receiving(head, nil)
        let expectsContinue = head.version.major == 1 && head.version.minor >= 1
            && head.headers[canonicalForm: "expect"].contains { $0.lowercased() == "100-continue" }
        return expectsContinue ? .writeContinue(HTTPResponseHead(version: head.version, status: .continue)) : .none
    }

    mutating func receivedBody(_ part: ByteBuffer) -> Action {
        guard case .receiving(let head, var body) = state else { return .none }
        state = .idle  // drop the state's reference so appending does not copy the body
        let size = (body?.readableBytes ?? 0) + part.readableBytes
        if size > Self.maxRequestBodyBytes {
            state = .routing(head)
            let error = OpenAIError(message: "Request body too large: the mock accepts at most \(Self.maxRequestBodyBytes) bytes.",
                                    type: "invalid_request_error", param: nil, code: "request_too_large")
            return startReply(MockReply.json(.payloadTooLarge, error.body), forceClose: true)
        }
        switch body {
        case .none:
            state = .receiving(head, part)
        case .some(var collected):
            body = nil
            var part = part
            collected.writeBuffer(&part)
            state = .receiving(head, collected)
        }
        return .none
    }

    mutating func receivedEnd() -> Action {
        guard case .receiving(let head, let body) = state else { return .none }
        state = .routing(head)
        return .route(MockRequest(head: head, body: body ?? ByteBuffer()))
    }

    /// Starts playing `reply` to the request handed out by `.route`.
    mutating func startReply(_ reply: MockReply, forceClose: Bool = false) -> Action {
        guard case .routing(let request) = state else { return .none }
        var streamed = false
        if case .stream = reply.body { streamed = true }
        let isHTTP10 = request.version.major == 1 && request.version.minor == 0
        // A stream has no length, so on HTTP/1.0 only the close can end it.
        let closeAfter = forceClose || !request.isKeepAlive || (streamed && isHTTP10)
        var headers = reply.headers
        switch reply.body {
        case .complete(let body): headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        case .truncated(_, let declared): headers.replaceOrAdd(name: "content-length", value: String(declared))
        case .stream, .reset, .hang: break
        }
        if closeAfter {
            headers.replaceOrAdd(name: "connection", value: "close")
        } else if isHTTP10 {
            headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
        let head = HTTPResponseHead(version: request.version, status: reply.status, headers: headers)
        state = .replying(Playback(reply: reply, head: head, closeAfter: closeAfter))
        return next()
    }

    /// The step after a `writeHead` or `writeBody`.
    mutating func next() -> Action {
        guard case .replying(var p) = state else { return .none }
        switch p.phase {
        case .delaying, .waiting, .resetPause:
            return .none
        case .start:
            if p.reply.delay > .zero {
                p.phase = .delaying
                state = .replying(p)
                return .wait(p.reply.delay)
            }
            p.phase = .ready
            state = .replying(p)
            return next()
        case .ready:
            switch p.reply.body {
            case .reset:
                state = .closed
                return .reset
            case .hang:
                state = .hung
                return .hang
            case .complete, .truncated, .stream:
                p.phase = .sent(0)
                state = .replying(p)
                return .writeHead(p.head)
            }
        case .sent(let n):
            switch p.reply.body {
            case .complete(let body):
                return finish(p, body)
            case .truncated(let partial, _):
                if n == 0 {
                    p.phase = .sent(1)
                    state = .replying(p)
                    return .writeBody(partial)
                }
                p.phase = .resetPause
                state = .replying(p)
                return .wait(Self.resetPause)
            case .stream(let events, let pacing, let resetAfter):
                let limit = min(resetAfter ?? events.count, events.count)
                if n < limit {
                    guard let pacing else {
                        if resetAfter == nil { return finish(p, events.events(n..<limit)) }
                        p.phase = .sent(limit)
                        state = .replying(p)
                        return .writeBody(events.events(n..<limit))
                    }
                    if n == 0 {
                        p.phase = .sent(1)
                        state = .replying(p)
                        return .writeBody(events.events(0..<1))
                    }
                    p.phase = .waiting(n)
                    state = .replying(p)
                    return .wait(pacing)
                }
                guard resetAfter != nil else { return finish(p, nil) }
                p.phase = .resetPause
                state = .replying(p)
                return .wait(pacing ?? Self.resetPause)
            case .reset, .hang:
                return .none
            }
        }
    }

    /// The timer asked for by the last `wait` expired.
    mutating func timerFired() -> Action {
        guard case .replying(var p) = state else { return .none }
        switch p.phase {
        case .delaying:
            p.phase = .ready
            state = .replying(p)
            return next()
        case .waiting(let n):
            guard case .stream(let events, _, _) = p.reply.body else { return .none }
            p.phase = .sent(n + 1)
            state = .replying(p)
            return .writeBody(events.events(n..<(n + 1)))
        case .resetPause:
            state = .closed
            return .reset
        case .start, .ready, .sent:
            return .none
        }
    }

    /// The connection closed: nothing more is written.
    mutating func closed() {
        state = .closed
    }

    private mutating func finish(_ p: Playback, _ body: ByteBuffer?) -> Action {
        state = p.closeAfter ? .closed : .idle
        return .writeEnd(body, closeAfter: p.closeAfter)
    }
}
