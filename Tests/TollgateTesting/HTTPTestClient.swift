import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public enum HTTPTestError: Error, CustomStringConvertible {
    case connectFailed(String)
    case connectionClosed
    case timeout
    case malformedResponse(String)

    public var description: String {
        switch self {
        case .connectFailed(let why): return "connect failed: \(why)"
        case .connectionClosed: return "connection closed by the server"
        case .timeout: return "timed out waiting for the server"
        case .malformedResponse(let why): return "malformed response: \(why)"
        }
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [HTTPHeader]
    public var body: [UInt8]

    public struct HTTPHeader: Sendable {
        public var name: String
        public var value: String
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public var bodyString: String { String(decoding: body, as: UTF8.self) }

    public func json() throws -> [String: Any] {
        guard let obj = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw HTTPTestError.malformedResponse("body is not a JSON object: \(bodyString.prefix(300))")
        }
        return obj
    }
}

/// A blocking HTTP/1.1 client on one keep-alive TCP connection to 127.0.0.1, for live tests.
/// Every socket call has a timeout, so a broken server fails a test instead of hanging it.
public final class HTTPTestClient: @unchecked Sendable {
    let host: String
    let port: Int
    let timeout: Double
    var socket = TestSocket()

    public init(port: Int, host: String = "127.0.0.1", timeout: Double = 10) {
        self.port = port
        self.host = host
        self.timeout = timeout
    }

    deinit { socket.close() }

    public func close() { socket.close() }

    public func request(_ method: String, _ path: String, headers: [(String, String)] = [], body: String? = nil) throws -> HTTPResponse {
        try send(method, path, headers: headers, body: body.map { Array($0.utf8) })
        let (status, respHeaders) = try socket.readHead()
        let body = try socket.readBody(headers: respHeaders, method: method)
        if respHeaders.contains(where: { $0.name.lowercased() == "connection" && $0.value.lowercased() == "close" }) {
            socket.close()
        }
        return HTTPResponse(status: status, headers: respHeaders, body: body)
    }

    public func postJSON(_ path: String, _ json: String, headers: [(String, String)] = []) throws -> HTTPResponse {
        var h = headers
        if !h.contains(where: { $0.0.lowercased() == "content-type" }) { h.append(("Content-Type", "application/json")) }
        return try request("POST", path, headers: h, body: json)
    }

    /// Sends a request and returns once the response head arrived; read the body incrementally.
    public func startStreaming(_ method: String, _ path: String, headers: [(String, String)] = [], body: String? = nil) throws -> HTTPStream {
        try send(method, path, headers: headers, body: body.map { Array($0.utf8) })
        let (status, respHeaders) = try socket.readHead()
        return HTTPStream(status: status, headers: respHeaders, socket: socket, owner: self)
    }

    private func send(_ method: String, _ path: String, headers: [(String, String)], body: [UInt8]?) throws {
        if !socket.isOpen {
            try socket.connect(host: host, port: port, timeout: timeout)
        }
        var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        for (n, v) in headers { text += "\(n): \(v)\r\n" }
        if let body { text += "Content-Length: \(body.count)\r\n" }
        text += "\r\n"
        var bytes = Array(text.utf8)
        if let body { bytes += body }
        do {
            try socket.write(bytes)
        } catch {
            // A keep-alive connection the server closed meanwhile: reconnect once.
            socket.close()
            try socket.connect(host: host, port: port, timeout: timeout)
            try socket.write(bytes)
        }
    }
}

/// A response whose body is read as it arrives.
public final class HTTPStream: @unchecked Sendable {
    public let status: Int
    public let headers: [HTTPResponse.HTTPHeader]
    let socket: TestSocket
    /// Keeps the client (whose deinit closes the socket) alive as long as the stream.
    private let owner: HTTPTestClient
    private var chunked: Bool
    private var remaining: Int?
    private var done = false
    private var sseBuffer: [UInt8] = []

    init(status: Int, headers: [HTTPResponse.HTTPHeader], socket: TestSocket, owner: HTTPTestClient) {
        self.owner = owner
        self.status = status
        self.headers = headers
        self.socket = socket
        chunked = headers.contains { $0.name.lowercased() == "transfer-encoding" && $0.value.lowercased().contains("chunked") }
        remaining = headers.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) }
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Hangs up mid-body, as a client that gives up on a stream does.
    public func close() {
        done = true
        socket.close()
    }

    /// The next piece of body (a decoded chunk), or nil at the end of the body.
    public func nextChunk() throws -> [UInt8]? {
        if done { return nil }
        if chunked {
            let sizeLine = try socket.readLine()
            guard let size = Int(sizeLine.split(separator: ";").first.map(String.init) ?? "", radix: 16) else {
                throw HTTPTestError.malformedResponse("bad chunk size line \"\(sizeLine)\"")
            }
            if size == 0 {
                while try !socket.readLine().isEmpty {}
                done = true
                return nil
            }
            let data = try socket.readExactly(size)
            _ = try socket.readLine()
            return data
        }
        if let r = remaining {
            if r == 0 { done = true; return nil }
            let data = try socket.readSome(max: r)
            remaining = r - data.count
            return data
        }
        do {
            return try socket.readSome(max: 65536)
        } catch HTTPTestError.connectionClosed {
            done = true
            return nil
        }
    }

    /// Collects the `data:` payloads of an SSE body until `[DONE]` or the end of the body.
    public func sseEvents() throws -> [String] {
        var events: [String] = []
        while true {
            while let range = findEventEnd() {
                let event = String(decoding: sseBuffer[..<range.lowerBound], as: UTF8.self)
                sseBuffer.removeSubrange(..<range.upperBound)
                let data = event.split(separator: "\n").filter { $0.hasPrefix("data:") }
                    .map { $0.dropFirst(5).drop(while: { $0 == " " }) }.joined(separator: "\n")
                if !data.isEmpty { events.append(data) }
                if data == "[DONE]" {
                    while try nextChunk() != nil {}
                    return events
                }
            }
            guard let chunk = try nextChunk() else { return events }
            sseBuffer += chunk
        }
    }

    private func findEventEnd() -> Range<Int>? {
        guard sseBuffer.count >= 2 else { return nil }
        for i in 0..<(sseBuffer.count - 1) where sseBuffer[i] == 0x0A && sseBuffer[i + 1] == 0x0A {
            return i..<(i + 2)
        }
        return nil
    }
}

/// Sends raw bytes and returns everything the server answers until it closes or goes quiet.
public func sendRaw(port: Int, bytes: [UInt8], readTimeout: Double) throws -> [UInt8] {
    let s = TestSocket()
    try s.connect(host: "127.0.0.1", port: port, timeout: readTimeout)
    defer { s.close() }
    try s.write(bytes)
    var out: [UInt8] = []
    while true {
        do {
            out += try s.readSome(max: 65536)
        } catch {
            return out
        }
    }
}

/// A loopback port no other test of this run will get, and that nothing holds right now.
///
/// Not the kernel's choice of port 0: the gateway binds its listeners with SO_REUSEPORT, so two
/// gateways of parallel tests that happened to get the same port would both bind it and the
/// kernel would split their clients between them. Ports come from a per-process counter below
/// the ephemeral range (so they cannot collide with kernel-assigned ones either).
public func freeLoopbackPort() throws -> Int {
    for _ in 0..<200 {
        let port = PortAllocator.next()
        if portIsFree(port) { return port }
    }
    throw HTTPTestError.connectFailed("no free loopback port found")
}

enum PortAllocator {
    private static let state = Mutex<Int>(20_000 + Int(getpid() % 400) * 25)

    static func next() -> Int {
        state.withLock { value in
            value += 1
            if value >= 32_000 { value = 20_000 }
            return value
        }
    }
}

private func portIsFree(_ port: Int) -> Bool {
    let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { Glibc.close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    return rc == 0
}
