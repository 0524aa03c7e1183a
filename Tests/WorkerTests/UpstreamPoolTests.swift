import NIOCore
import NIOHTTP1
import NIOPosix
import Testing
@testable import Worker

/// The pool shell against a real HTTP/1.1 server on 127.0.0.1:0 that answers every request
/// with the client's port (so a test sees which requests shared a connection), and closes the
/// connection after answering when asked (`x-close: 1`).
@Suite struct UpstreamPoolTests {
    final class PortEchoHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        private var closeAfter = false

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                closeAfter = head.headers["x-close"].first == "1"
            case .body:
                break
            case .end:
                let body = context.channel.allocator.buffer(string: String(context.channel.remoteAddress?.port ?? 0))
                let headers = HTTPHeaders([("content-length", String(body.readableBytes))])
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
                let channel = context.channel
                let close = closeAfter
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                    if close { channel.close(promise: nil) }
                }
            }
        }
    }

    struct Fixture {
        let server: Channel
        let loop: EventLoop
        let pool: UpstreamPool
        let target: UpstreamTarget

        init(cap: Int, queue: Int) throws {
            server = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(PortEchoHandler())
                    }
                }
                .bind(host: "127.0.0.1", port: 0).wait()
            loop = MultiThreadedEventLoopGroup.singleton.next()
            pool = UpstreamPool(eventLoop: loop, maxIdlePerOrigin: 8, maxConnectionsPerOrigin: cap, maxWaitQueue: queue)
            target = UpstreamTarget(scheme: .http, host: "127.0.0.1", port: server.localAddress!.port!, basePath: "")
        }

        func close() {
            let pool = self.pool
            try? loop.submit { pool.closeAll() }.wait()
            try? server.close().wait()
        }

        func post(close: Bool = false) -> EventLoopFuture<UpstreamCall.Response> {
            let (pool, loop, target) = (self.pool, self.loop, self.target)
            return loop.flatSubmit {
                UpstreamCall.post(pool: pool, eventLoop: loop, target: target, path: "/", headers: close ? [("x-close", "1")] : [],
                                  body: Array("{}".utf8), timeout: .seconds(5))
            }
        }

        func counts() throws -> (connections: Int, idle: Int, waiters: Int) {
            let (pool, origin) = (self.pool, target.origin)
            return try loop.submit { pool.counts(origin: origin) }.wait()
        }

        /// Polls until `condition` holds on the pool's counts, for at most 5 s.
        func waitFor(_ condition: ((connections: Int, idle: Int, waiters: Int)) -> Bool) throws -> Bool {
            let deadline = NIODeadline.now() + .seconds(5)
            while NIODeadline.now() < deadline {
                if condition(try counts()) { return true }
                try loop.scheduleTask(in: .milliseconds(5)) {}.futureResult.wait()
            }
            return false
        }
    }

    private func port(_ response: UpstreamCall.Response) -> String { String(decoding: response.body, as: UTF8.self) }

    @Test func requestsAtTheCapShareOneConnectionAndOverflowFailsFast() throws {
        let f = try Fixture(cap: 1, queue: 1)
        defer { f.close() }
        // All three ask in one event-loop task, so none can finish (and free the connection or
        // the queue slot) before the third asks, however slow the machine is.
        let (pool, loop, target) = (f.pool, f.loop, f.target)
        let calls = try loop.submit {
            (0..<3).map { _ in
                UpstreamCall.post(pool: pool, eventLoop: loop, target: target, path: "/", headers: [],
                                  body: Array("{}".utf8), timeout: .seconds(5))
            }
        }.wait()
        let (first, second, third) = (calls[0], calls[1], calls[2])
        let r1 = try first.wait()
        let r2 = try second.wait()
        #expect(r1.status == 200 && r2.status == 200)
        #expect(port(r1) == port(r2), "the waiter got the released connection")
        do {
            _ = try third.wait()
            Issue.record("the third request should fail: one connection, one waiter")
        } catch {
            #expect("\(error)".contains("limits.max_upstream_wait_queue"), "\(error)")
        }
        #expect(try f.counts() == (connections: 1, idle: 1, waiters: 0))
    }

    @Test func idleConnectionIsReusedAndOneClosedByTheServerIsDropped() throws {
        let f = try Fixture(cap: 4, queue: 4)
        defer { f.close() }
        let a = try f.post().wait()
        let b = try f.post(close: true).wait()
        #expect(port(a) == port(b), "sequential requests reuse the idle connection")
        // The server closed it after answering: the pool notices while it is idle.
        #expect(try f.waitFor { $0.connections == 0 })
        let c = try f.post().wait()
        #expect(c.status == 200 && port(c) != port(a))
        #expect(try f.counts() == (connections: 1, idle: 1, waiters: 0))
    }

    @Test func waiterTimesOutAfterTheConnectTimeoutAndShutdownFailsWaiters() throws {
        let f = try Fixture(cap: 1, queue: 4)
        defer { f.close() }
        let (pool, target) = (f.pool, f.target)
        let held = try f.loop.flatSubmit { pool.acquire(target, connectTimeout: .seconds(5)) }.wait()
        #expect(held.reused == false)
        do {
            _ = try f.loop.flatSubmit { pool.acquire(target, connectTimeout: .milliseconds(50)) }.wait()
            Issue.record("expected the wait to time out")
        } catch let error as UpstreamPoolError {
            #expect(error.kind == .waitTimedOut)
        }
        let waiting = try f.loop.submit { pool.acquire(target, connectTimeout: .seconds(5)) }.wait()
        #expect(try f.counts().waiters == 1)
        try f.loop.submit { pool.closeAll() }.wait()
        do {
            _ = try waiting.wait()
            Issue.record("expected shutdown to fail the waiter")
        } catch let error as UpstreamPoolError {
            #expect(error.kind == .shutDown)
        }
        held.0.close()
        #expect(try f.waitFor { $0.connections == 0 })
    }

    @Test func aCancelledWaiterFailsAtOnceAndTheReleaseGoesToTheNext() throws {
        let f = try Fixture(cap: 1, queue: 4)
        defer { f.close() }
        let (pool, target) = (f.pool, f.target)
        let held = try f.loop.flatSubmit { pool.acquire(target, connectTimeout: .seconds(5)) }.wait()
        let (gaveUp, next) = try f.loop.submit {
            (pool.lease(target, connectTimeout: .seconds(30)), pool.lease(target, connectTimeout: .seconds(30)))
        }.wait()
        #expect(gaveUp.waiterID != nil && next.waiterID != nil)
        #expect(try f.counts().waiters == 2)
        try f.loop.submit { pool.cancel(waiter: gaveUp.waiterID!) }.wait()
        do {
            _ = try gaveUp.future.wait()
            Issue.record("expected the cancelled lease to fail")
        } catch let error as UpstreamPoolError {
            #expect(error.kind == .cancelled)
        }
        #expect(try f.counts().waiters == 1)
        // The slot the held connection frees goes to the waiter still there, not the cancelled
        // one (a connection that served no response is replaced rather than reused).
        try f.loop.submit { pool.release(held.0) }.wait()
        let got = try next.future.wait()
        #expect(got.0.isActive)
        #expect(try f.counts().waiters == 0)
        got.0.close()
        #expect(try f.waitFor { $0.connections == 0 })
    }
}
