import NIOCore
import NIOHTTP1

/// A one-shot POST over the worker's upstream pool for side calls a filter makes (e.g. a
/// content-safety service): the whole response body is collected, and the call fails after
/// `timeout` however far it got. Loop-confined like the pool: `@unchecked Sendable` only so
/// the loop's own callbacks can capture it.
final class UpstreamCall: UpstreamResponseDelegate, @unchecked Sendable {
    struct Response {
        var status: Int
        var body: [UInt8]
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The most of a side-call answer kept (they are small JSON documents).
    static let maxBodyBytes = 1 << 20

    private let pool: UpstreamPool
    private let promise: EventLoopPromise<Response>
    private var conn: UpstreamConnection?
    private var status = 0
    private var body: [UInt8] = []
    private var done = false

    private init(pool: UpstreamPool, promise: EventLoopPromise<Response>) {
        self.pool = pool
        self.promise = promise
    }

    /// POSTs `body` to `path` under `target`; must be called on the pool's event loop.
    static func post(pool: UpstreamPool, eventLoop: EventLoop, target: UpstreamTarget, path: String,
                     headers: [(String, String)], body: [UInt8], timeout: TimeAmount) -> EventLoopFuture<Response> {
        let promise = eventLoop.makePromise(of: Response.self)
        let call = UpstreamCall(pool: pool, promise: promise)
        let timer = eventLoop.scheduleTask(in: timeout) {
            call.finish(.failure(Failure(description: "timed out after \(timeout.nanoseconds / 1_000_000) ms")))
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        pool.acquire(target, connectTimeout: timeout).whenComplete { result in
            switch result {
            case .success(let (conn, _)):
                guard !call.done else {
                    pool.release(conn)
                    return
                }
                call.conn = conn
                conn.lease(to: call)
                var h = HTTPHeaders(headers)
                h.add(name: "host", value: target.hostHeader)
                h.add(name: "content-type", value: "application/json")
                h.add(name: "content-length", value: String(body.count))
                var buffer = conn.channel.allocator.buffer(capacity: body.count)
                buffer.writeBytes(body)
                conn.write(head: HTTPRequestHead(version: .http1_1, method: .POST, uri: target.basePath + path, headers: h), body: buffer)
                conn.read()
            case .failure(let error):
                call.finish(.failure(Failure(description: "cannot connect: \(error)")))
            }
        }
        return promise.futureResult
    }

    private func finish(_ result: Result<Response, Failure>) {
        guard !done else { return }
        done = true
        if let conn {
            self.conn = nil
            if case .success = result {
                conn.reusable = true
                pool.release(conn)
            } else {
                conn.close()
            }
        }
        promise.completeWith(result.mapError { $0 as any Error })
    }

    func upstreamHead(_ head: HTTPResponseHead) {
        status = Int(head.status.code)
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        guard body.count + buffer.readableBytes <= Self.maxBodyBytes else {
            return finish(.failure(Failure(description: "answer larger than \(Self.maxBodyBytes) bytes")))
        }
        body += buffer.readableBytesView
    }

    func upstreamEnd() {
        finish(.success(Response(status: status, body: body)))
    }

    func upstreamReadComplete() {
        if !done { conn?.read() }
    }

    func upstreamFailed(_ error: any Error) {
        finish(.failure(Failure(description: "connection failed: \(error)")))
    }
}
