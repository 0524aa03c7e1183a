import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a test connection ended or failed.
enum TestConnectionError: Error, Equatable {
    case connectFailed(Int32)
    /// The peer reset the connection (ECONNRESET).
    case reset
    /// Nothing arrived within the read timeout.
    case timeout
    /// The peer closed the connection cleanly.
    case closed
    case malformed(String)
}

/// A response as it arrived on the wire.
struct TestResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw TestConnectionError.malformed("not a JSON object: \(text)")
        }
        return object
    }

    /// The `data:` payloads of a server-sent-event body, in order.
    var sseData: [String] {
        text.components(separatedBy: "\n\n").compactMap { event in
            event.split(separator: "\n").first { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
        }
    }
}

/// A blocking HTTP/1.1 client on one TCP connection to 127.0.0.1, written for these tests:
/// it sends raw requests (so tests control every byte, pipelining included) and reads
/// responses framed by content-length, chunked encoding or the close, reporting resets and
/// timeouts as errors of their own.
final class TestHTTPConnection {
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, timeout: Double = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestConnectionError.connectFailed(errno) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw TestConnectionError.connectFailed(e)
        }
    }

    deinit {
        close(fd)
    }

    /// The bytes of a request: `path` with `headers`, a JSON `body` when given.
    static func request(_ method: String, _ path: String, body: String? = nil, headers: [(String, String)] = [],
                        version: String = "HTTP/1.1") -> String {
        var s = "\(method) \(path) \(version)\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { s += "\(name): \(value)\r\n" }
        if let body {
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) { s += "Content-Type: application/json\r\n" }
            s += "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        } else {
            s += "\r\n"
        }
        return s
    }

    func sendRaw(_ raw: String) throws {
        var bytes = Array(raw.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw errno == ECONNRESET || errno == EPIPE ? TestConnectionError.reset : TestConnectionError.malformed("send: errno \(errno)")
            }
            offset += n
        }
    }

    /// Sends one request and reads its response.
    func exchange(_ method: String, _ path: String, body: String? = nil, headers: [(String, String)] = []) throws -> TestResponse {
        try sendRaw(Self.request(method, path, body: body, headers: headers))
        return try readResponse()
    }

    /// The next whole response.
    func readResponse() throws -> TestResponse {
        var response = try readHead()
        response.body = try readBody(of: response, onPiece: { _ in })
        return response
    }

    /// The status line and headers of the next response (its body left unread).
    func readHead() throws -> TestResponse {
        let headEnd = try readUntil([13, 10, 13, 10])
        let head = String(decoding: buffer[..<headEnd], as: UTF8.self)
        buffer.removeFirst(headEnd + 4)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw TestConnectionError.malformed(head) }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return TestResponse(status: status, headers: headers, body: [])
    }

    /// The body of `response` (whose head was just read); `onPiece` sees each chunk (or each
    /// read, for bodies without chunking) as it arrives.
    func readBody(of response: TestResponse, onPiece: ([UInt8]) -> Void) throws -> [UInt8] {
        if let length = response.header("content-length").flatMap(Int.init) {
            while buffer.count < length { try fill() }
            let body = Array(buffer[..<length])
            buffer.removeFirst(length)
            onPiece(body)
            return body
        }
        if response.header("transfer-encoding")?.lowercased() == "chunked" {
            var body: [UInt8] = []
            while true {
                let lineEnd = try readUntil([13, 10])
                let sizeText = String(decoding: buffer[..<lineEnd], as: UTF8.self).split(separator: ";")[0]
                guard let size = Int(sizeText, radix: 16) else { throw TestConnectionError.malformed("chunk size \(sizeText)") }
                buffer.removeFirst(lineEnd + 2)
                while buffer.count < size + 2 { try fill() }
                let chunk = Array(buffer[..<size])
                buffer.removeFirst(size + 2)
                if size == 0 { return body }
                onPiece(chunk)
                body += chunk
            }
        }
        // Delimited by the close.
        while true {
            do {
                try fill()
            } catch TestConnectionError.closed {
                let body = buffer
                buffer = []
                onPiece(body)
                return body
            }
        }
    }

    /// Whether the peer closed the connection (a read sees EOF) within the read timeout.
    func isClosedByPeer() -> Bool {
        do {
            try fill()
            return false
        } catch {
            return error as? TestConnectionError == .closed || error as? TestConnectionError == .reset
        }
    }

    private func readUntil(_ marker: [UInt8]) throws -> Int {
        var searchFrom = 0
        while true {
            if buffer.count >= marker.count {
                for i in searchFrom...(buffer.count - marker.count) where buffer[i..<(i + marker.count)].elementsEqual(marker) {
                    return i
                }
                searchFrom = buffer.count - marker.count + 1
            }
            try fill()
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                buffer += chunk[..<n]
                return
            }
            if n == 0 { throw TestConnectionError.closed }
            switch errno {
            case EINTR: continue
            case ECONNRESET: throw TestConnectionError.reset
            case EAGAIN, EWOULDBLOCK: throw TestConnectionError.timeout
            default: throw TestConnectionError.malformed("recv: errno \(errno)")
            }
        }
    }
}
