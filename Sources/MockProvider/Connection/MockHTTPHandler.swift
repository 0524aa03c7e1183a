import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The I/O shell of one mock connection: passes request parts to `MockConnectionStateMachine`,
/// asks `MockRouter` for the reply, and performs the machine's steps on the event loop
/// (timers are scheduled tasks, never sleeps). All decisions live in the machine.
final class MockHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let router: MockRouter
    private var machine = MockConnectionStateMachine()
    private var timer: Scheduled<Void>?

    init(router: MockRouter) {
        self.router = router
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            perform(machine.receivedHead(head), context: context)
        case .body(let part):
            perform(machine.receivedBody(part), context: context)
        case .end:
            perform(machine.receivedEnd(), context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    private func stop() {
        machine.closed()
        timer?.cancel()
        timer = nil
    }

    private func perform(_ first: MockConnectionStateMachine.Action, context: ChannelHandlerContext) {
        var action = first
        while true {
            switch action {
            case .none, .hang:
                return
            case .writeContinue(let head):
                context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
                return
            case .route(let request):
                action = machine.startReply(router.reply(to: request))
            case .wait(let delay):
                timer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                    self.timer = nil
                    self.perform(self.machine.timerFired(), context: context)
                }
                return
            case .writeHead(let head):
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                action = machine.next()
            case .writeBody(let bytes):
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
                action = machine.next()
            case .writeEnd(let bytes, let closeAfter):
                if let bytes, bytes.readableBytes > 0 {
                    context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
                }
                if closeAfter {
                    context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                        context.close(promise: nil)
                    }
                } else {
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                }
                return
            case .reset:
                Self.reset(context.channel)
                return
            }
        }
    }

    /// Closes with SO_LINGER 0, so the peer gets a TCP RST (ECONNRESET), not a clean FIN.
    static func reset(_ channel: Channel) {
        guard let provider = channel as? SocketOptionProvider else {
            channel.close(promise: nil)
            return
        }
        provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
