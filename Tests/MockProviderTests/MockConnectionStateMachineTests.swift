import NIOCore
import NIOHTTP1
import Testing
@testable import MockProvider

/// The connection state machine on its own: which steps each kind of reply plays, in order.
@Suite struct MockConnectionStateMachineTests {
    typealias Machine = MockConnectionStateMachine

    private func head(_ version: HTTPVersion = .http1_1, _ headers: [(String, String)] = []) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: .POST, uri: "/v1/chat/completions", headers: HTTPHeaders(headers))
    }

    private func describe(_ action: Machine.Action) -> String {
        switch action {
        case .none: return "none"
        case .writeContinue(let h): return "continue(\(h.status.code))"
        case .route(let r): return "route(\(r.path) \(String(buffer: r.body)))"
        case .wait(let t): return "wait(\(t.nanoseconds / 1_000_000)ms)"
        case .writeHead(let h):
            var s = "head(\(h.status.code)"
            for name in ["content-length", "connection"] { if let v = h.headers.first(name: name) { s += " \(name)=\(v)" } }
            return s + ")"
        case .writeBody(let b): return "body(\(String(buffer: b)))"
        case .writeEnd(let b, let close): return "end(\(b.map { String(buffer: $0) } ?? "-")\(close ? ", close" : ""))"
        case .reset: return "reset"
        case .hang: return "hang"
        }
    }

    /// Receives a request and plays `reply` to its end, firing every timer it asks for.
    private func play(_ reply: MockReply, request: HTTPRequestHead? = nil, machine: inout Machine) -> [String] {
        _ = machine.receivedHead(request ?? head())
        _ = machine.receivedBody(ByteBuffer(string: "{}"))
        guard case .route = machine.receivedEnd() else { return ["no route"] }
        var steps: [String] = []
        var action = machine.startReply(reply)
        while true {
            steps.append(describe(action))
            switch action {
            case .writeHead, .writeBody: action = machine.next()
            case .wait: action = machine.timerFired()
            default: return steps
            }
        }
    }

    private func play(_ reply: MockReply, request: HTTPRequestHead? = nil) -> [String] {
        var machine = Machine()
        return play(reply, request: request, machine: &machine)
    }

    private func events(_ texts: [String]) -> MockEventBody {
        var body = MockEventBody()
        for t in texts { body.append { $0.writeString(t) } }
        return body
    }

    @Test func routesTheCollectedRequest() {
        var m = Machine()
        #expect(describe(m.receivedHead(head())) == "none")
        #expect(describe(m.receivedBody(ByteBuffer(string: "ab"))) == "none")
        #expect(describe(m.receivedBody(ByteBuffer(string: "c"))) == "none")
        #expect(describe(m.receivedEnd()) == "route(/chat/completions abc)")
    }

    @Test func expectContinueGetsAnInterimResponse() {
        var m = Machine()
        #expect(describe(m.receivedHead(head(.http1_1, [("Expect", "100-continue")]))) == "continue(100)")
        #expect(describe(m.receivedEnd()) == "route(/chat/completions )")
        var plain = Machine()
        #expect(describe(plain.receivedHead(head(.http1_0, [("Expect", "100-continue")]))) == "none", "HTTP/1.0 has no 100 Continue")
    }

    @Test func completeReplyKeepsTheConnectionForTheNextRequest() {
        var m = Machine()
        let reply = MockReply.json(.ok, ByteBuffer(string: "{}"))
        #expect(play(reply, machine: &m) == ["head(200 content-length=2)", "end({})"])
        #expect(play(reply, machine: &m) == ["head(200 content-length=2)", "end({})"], "a second request on the same connection")
    }

    @Test func latencyComesBeforeTheHead() {
        var reply = MockReply.json(.ok, ByteBuffer(string: "{}"))
        reply.delay = .milliseconds(50)
        #expect(play(reply) == ["wait(50ms)", "head(200 content-length=2)", "end({})"])
    }

    @Test func connectionCloseAndHTTP10AreHonoured() {
        let reply = MockReply.json(.ok, ByteBuffer(string: "{}"))
        #expect(play(reply, request: head(.http1_1, [("connection", "close")])) == ["head(200 content-length=2 connection=close)", "end({}, close)"])
        #expect(play(reply, request: head(.http1_0)) == ["head(200 content-length=2 connection=close)", "end({}, close)"])
        #expect(play(reply, request: head(.http1_0, [("connection", "keep-alive")])) == ["head(200 content-length=2 connection=keep-alive)", "end({})"])
        // A stream has no length: on HTTP/1.0 the close ends it.
        let stream = MockReply.eventStream(events(["a"]), pacing: nil)
        #expect(play(stream, request: head(.http1_0, [("connection", "keep-alive")])) == ["head(200 connection=close)", "end(a, close)"])
    }

    @Test func unpacedStreamGoesOutInOneWrite() {
        #expect(play(.eventStream(events(["a", "b", "c"]), pacing: nil)) == ["head(200)", "end(abc)"])
    }

    @Test func pacedStreamWaitsBetweenEvents() {
        #expect(play(.eventStream(events(["a", "b", "c"]), pacing: .milliseconds(10))) ==
                ["head(200)", "body(a)", "wait(10ms)", "body(b)", "wait(10ms)", "body(c)", "end(-)"])
    }

    @Test func midstreamSendsAFewEventsThenResets() {
        #expect(play(.eventStream(events(["a", "b", "c", "d"]), pacing: nil, resetAfter: 2)) ==
                ["head(200)", "body(ab)", "wait(20ms)", "reset"])
        #expect(play(.eventStream(events(["a", "b", "c", "d"]), pacing: .milliseconds(10), resetAfter: 2)) ==
                ["head(200)", "body(a)", "wait(10ms)", "body(b)", "wait(10ms)", "reset"])
    }

    @Test func truncatedBodyAnnouncesTheWholeLengthThenResets() {
        var reply = MockReply.json(.ok, ByteBuffer(string: "0123456789"))
        reply.body = .truncated(ByteBuffer(string: "01234"), declaredLength: 10)
        #expect(play(reply) == ["head(200 content-length=10)", "body(01234)", "wait(20ms)", "reset"])
        var controls = MockControls()
        controls.fault = .midstream
        guard case .truncated(let part, let declared) = MockReply.json(.ok, ByteBuffer(string: "0123456789")).applying(controls).body else {
            Issue.record("midstream did not truncate a plain body")
            return
        }
        #expect(String(buffer: part) == "01234" && declared == 10)
    }

    @Test func resetAndHangWriteNothing() {
        var delayed = MockReply.reset
        delayed.delay = .milliseconds(5)
        #expect(play(delayed) == ["wait(5ms)", "reset"])
        var m = Machine()
        #expect(play(.hang, machine: &m) == ["hang"])
        #expect(describe(m.receivedHead(head())) == "none", "a hung connection ignores what follows")
        #expect(describe(m.receivedEnd()) == "none")
        #expect(describe(m.timerFired()) == "none")
    }

    @Test func oversizedBodyIsRefusedWith413AndClose() {
        var m = Machine()
        _ = m.receivedHead(head())
        let big = ByteBuffer(repeating: 0x20, count: Machine.maxRequestBodyBytes + 1)
        guard case .writeHead(let response) = m.receivedBody(big) else {
            Issue.record("no 413")
            return
        }
        #expect(response.status == .payloadTooLarge)
        #expect(response.headers.first(name: "connection") == "close")
        guard case .writeEnd(let body, let close) = m.next() else {
            Issue.record("no end")
            return
        }
        #expect(close && String(buffer: body ?? ByteBuffer()).contains("request_too_large"))
        #expect(describe(m.receivedBody(ByteBuffer(string: "more"))) == "none")
        #expect(describe(m.receivedEnd()) == "none")
    }

    @Test func nothingHappensAfterTheConnectionClosed() {
        var m = Machine()
        _ = m.receivedHead(head())
        _ = m.receivedEnd()
        var reply = MockReply.json(.ok, ByteBuffer(string: "{}"))
        reply.delay = .milliseconds(10)
        #expect(describe(m.startReply(reply)) == "wait(10ms)")
        m.closed()
        #expect(describe(m.timerFired()) == "none")
        #expect(describe(m.next()) == "none")
    }
}
