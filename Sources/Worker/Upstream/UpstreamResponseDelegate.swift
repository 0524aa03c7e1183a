import NIOCore
import NIOHTTP1

/// Receives what an upstream connection reads while it is leased to one request attempt.
/// All calls happen on the worker's event loop.
protocol UpstreamResponseDelegate: AnyObject {
    func upstreamHead(_ head: HTTPResponseHead)
    func upstreamBody(_ buffer: ByteBuffer)
    func upstreamEnd()
    /// A read burst ended: flush what was forwarded and decide whether to read more.
    func upstreamReadComplete()
    /// The connection failed or closed before the response ended.
    func upstreamFailed(_ error: any Error)
}
