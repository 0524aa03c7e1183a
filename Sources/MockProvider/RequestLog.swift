import NIOCore
import NIOHTTP1
import Synchronization

/// The last requests the mock received, for tests that assert what a gateway forwarded
/// upstream (the rewritten model, the provider's auth header): `GET /mock/requests` lists
/// them, `DELETE /mock/requests` clears them. Shared by every event loop under one lock; an
/// append only stores references (the body buffer, the headers), the JSON is built on reads.
final class RequestLog: Sendable {
    struct Entry: Sendable {
        var method: HTTPMethod
        /// The request target as sent: path and query.
        var uri: String
        var headers: HTTPHeaders
        var body: ByteBuffer
        /// The model the request named (suffixes included), when it named one.
        var model: String?
    }

    static let capacity = 200

    /// A ring of the last `capacity` entries: appends never shift the others.
    private struct Ring {
        var items: [Entry] = []
        var next = 0
    }

    private let ring = Mutex(Ring())

    func append(_ entry: Entry) {
        ring.withLock { r in
            if r.items.count < Self.capacity {
                r.items.append(entry)
            } else {
                r.items[r.next] = entry
            }
            r.next = (r.next + 1) % Self.capacity
        }
    }

    func clear() {
        ring.withLock { $0 = Ring() }
    }

    /// The entries, oldest first.
    var entries: [Entry] {
        ring.withLock { r in
            r.items.count < Self.capacity ? r.items : Array(r.items[r.next...] + r.items[..<r.next])
        }
    }

    /// `[{"method","path","headers":[[name,value]…],"body","model"}…]`, oldest first.
    var json: ByteBuffer {
        let list = entries
        var b = ByteBufferAllocator().buffer(capacity: 256 * max(1, list.count))
        b.writeStaticString("[")
        for (i, e) in list.enumerated() {
            if i > 0 { b.writeStaticString(",") }
            b.writeStaticString("{\"method\":")
            b.writeJSONString(e.method.rawValue)
            b.writeStaticString(",\"path\":")
            b.writeJSONString(e.uri)
            b.writeStaticString(",\"headers\":[")
            for (j, h) in e.headers.enumerated() {
                if j > 0 { b.writeStaticString(",") }
                b.writeStaticString("[")
                b.writeJSONString(h.name)
                b.writeStaticString(",")
                b.writeJSONString(h.value)
                b.writeStaticString("]")
            }
            b.writeStaticString("],\"body\":")
            b.writeJSONString(String(decoding: e.body.readableBytesView, as: UTF8.self))
            b.writeStaticString(",\"model\":")
            b.writeJSONStringOrNull(e.model)
            b.writeStaticString("}")
        }
        b.writeStaticString("]")
        return b
    }
}
