import NIOCore
import NIOHTTP1

/// One keep-alive connection to an upstream origin, leased to at most one request at a time.
///
/// The channel runs with `autoRead` off: the lessee calls `read()` when the client can take
/// more, which is how backpressure from a slow client reaches the provider's TCP window
/// instead of our memory.
///
/// Confined to the worker's event loop (it is only `Sendable` so it can travel in that loop's
/// futures); no method may be called from another thread.
final class UpstreamConnection: @unchecked Sendable {
    let channel: Channel
    let origin: String
    /// The pool state machine's id for this connection.
    let id: Int
    fileprivate(set) var handler: UpstreamClientHandler!
    /// True once the connection carried a full response and may be pooled again.
    var reusable = false
    /// Requests this connection has carried (for the stale-connection retry rule).
    var useCount = 0

    init(channel: Channel, origin: String, id: Int) {
        self.channel = channel
        self.origin = origin
        self.id = id
    }

    var isActive: Bool { channel.isActive }

    func lease(to delegate: UpstreamResponseDelegate) {
        useCount += 1
        reusable = false
        handler.delegate = delegate
    }

    func releaseLease() {
        handler.delegate = nil
    }

    func read() {
        channel.read()
    }

    func close() {
        handler.delegate = nil
        channel.close(promise: nil)
    }

    func write(head: HTTPRequestHead, body: ByteBuffer) {
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if body.readableBytes > 0 {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
        }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }

    func attach(_ handler: UpstreamClientHandler) {
        self.handler = handler
    }
}

/// The last handler of an upstream connection's pipeline: forwards response parts to the
/// current lessee, and tells the pool when an idle pooled connection dies or misbehaves.
///
/// Confined to the worker's single event loop; it is marked `Sendable` only so it can be
/// captured by that loop's future callbacks and scheduled tasks. Never touch it elsewhere.
final class UpstreamClientHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart

    weak var delegate: UpstreamResponseDelegate?
    /// Called when the channel becomes unusable (closed, errored, or spoke while idle).
    var onDead: (() -> Void)?
    private var responseKeepAlive = true

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        guard let delegate else {
            // An idle pooled connection must not speak; whatever it says, it is no longer usable.
            onDead?()
            context.close(promise: nil)
            return
        }
        switch part {
        case .head(let head):
            responseKeepAlive = head.isKeepAlive
            delegate.upstreamHead(head)
        case .body(let buffer):
            delegate.upstreamBody(buffer)
        case .end:
            if !responseKeepAlive {
                // The server announced it closes: never pool this connection.
                onDead?()
            }
            delegate.upstreamEnd()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        onDead?()
        let d = delegate
        delegate = nil
        d?.upstreamFailed(ChannelError.eof)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        onDead?()
        let d = delegate
        delegate = nil
        d?.upstreamFailed(error)
        context.close(promise: nil)
    }

    /// Whether the last response allowed the connection to be reused.
    var lastResponseKeepAlive: Bool { responseKeepAlive }
}
