import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import MockProvider

/// The handler in an `EmbeddedChannel`: the machine's steps become writes, timers become
/// scheduled tasks on the channel's (virtual) clock.
@Suite struct MockHTTPHandlerTests {
    private func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(MockHTTPHandler(router: MockRouter(log: RequestLog(), ids: MockIDs())))
        return channel
    }

    private func send(_ channel: EmbeddedChannel, model: String, stream: Bool = false) throws {
        let body = chatBody(model: model, extra: stream ? #","stream":true"# : "")
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/chat/completions")))
        try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: body)))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
    }

    private func drain(_ channel: EmbeddedChannel) throws -> [String] {
        var parts: [String] = []
        while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) {
            switch part {
            case .head(let h): parts.append("head \(h.status.code)")
            case .body(.byteBuffer(let b)): parts.append("body \(b.readableBytes)")
            case .body: parts.append("body")
            case .end: parts.append("end")
            }
        }
        return parts
    }

    @Test func latencyIsAScheduledTaskNotASleep() throws {
        let channel = try channel()
        try send(channel, model: "m+latency=100")
        #expect(try drain(channel).isEmpty)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(99))
        #expect(try drain(channel).isEmpty)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(try drain(channel).map { $0.hasPrefix("body") ? "body" : $0 } == ["head 200", "body", "end"])
    }

    @Test func pacedStreamWritesOneEventPerInterval() throws {
        let channel = try channel()
        try send(channel, model: "m+tps=10+tokens=2", stream: true)
        // Head and the role chunk at once, then one event per 100 ms: 2 tokens, finish, [DONE],
        // and the end right after the last one.
        #expect(try drain(channel).map { $0.hasPrefix("body") ? "body" : $0 } == ["head 200", "body"])
        for step in 0..<4 {
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(99))
            #expect(try drain(channel).isEmpty)
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
            #expect(try drain(channel).map { $0.hasPrefix("body") ? "body" : $0 } == (step < 3 ? ["body"] : ["body", "end"]))
        }
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(try drain(channel).isEmpty)
    }

    @Test func closingTheConnectionCancelsPendingTimers() throws {
        let channel = try channel()
        try send(channel, model: "m+latency=50")
        _ = try channel.finish(acceptAlreadyClosed: true)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(try drain(channel).isEmpty)
    }
}
