import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP socket with receive/send timeouts and a read buffer.
public final class TestSocket: @unchecked Sendable {
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    public init() {}

    public var isOpen: Bool { fd >= 0 }

    public func connect(host: String, port: Int, timeout: Double) throws {
        close()
        let s = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { throw HTTPTestError.connectFailed("socket: \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let why = String(cString: strerror(errno))
            Glibc.close(s)
            throw HTTPTestError.connectFailed(why)
        }
        fd = s
        buffer.removeAll()
    }

    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
        buffer.removeAll()
    }

    public func write(_ bytes: [UInt8]) throws {
        guard fd >= 0 else { throw HTTPTestError.connectionClosed }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { throw HTTPTestError.timeout }
                throw HTTPTestError.connectionClosed
            }
            offset += n
        }
    }

    private func fill() throws {
        guard fd >= 0 else { throw HTTPTestError.connectionClosed }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 {
                buffer += chunk[0..<n]
                return
            }
            if n == 0 { throw HTTPTestError.connectionClosed }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw HTTPTestError.timeout }
            throw HTTPTestError.connectionClosed
        }
    }

    func readLine() throws -> String {
        while true {
            if let i = buffer.firstIndex(of: 0x0A) {
                var line = Array(buffer[..<i])
                buffer.removeSubrange(...i)
                if line.last == 0x0D { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            try fill()
        }
    }

    func readExactly(_ n: Int) throws -> [UInt8] {
        while buffer.count < n { try fill() }
        let out = Array(buffer[..<n])
        buffer.removeSubrange(..<n)
        return out
    }

    public func readSome(max: Int) throws -> [UInt8] {
        if buffer.isEmpty { try fill() }
        let n = min(max, buffer.count)
        let out = Array(buffer[..<n])
        buffer.removeSubrange(..<n)
        return out
    }

    public func readHead() throws -> (Int, [HTTPResponse.HTTPHeader]) {
        var statusLine = try readLine()
        while statusLine.isEmpty { statusLine = try readLine() }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw HTTPTestError.malformedResponse("status line \"\(statusLine)\"")
        }
        var headers: [HTTPResponse.HTTPHeader] = []
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { throw HTTPTestError.malformedResponse("header line \"\(line)\"") }
            headers.append(.init(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return (status, headers)
    }

    public func readBody(headers: [HTTPResponse.HTTPHeader], method: String) throws -> [UInt8] {
        if method == "HEAD" { return [] }
        if headers.contains(where: { $0.name.lowercased() == "transfer-encoding" && $0.value.lowercased().contains("chunked") }) {
            var body: [UInt8] = []
            while true {
                let line = try readLine()
                guard let size = Int(line.split(separator: ";").first.map(String.init) ?? "", radix: 16) else {
                    throw HTTPTestError.malformedResponse("bad chunk size \"\(line)\"")
                }
                if size == 0 {
                    while try !readLine().isEmpty {}
                    return body
                }
                body += try readExactly(size)
                _ = try readLine()
            }
        }
        if let length = headers.first(where: { $0.name.lowercased() == "content-length" }).flatMap({ Int($0.value) }) {
            return try readExactly(length)
        }
        var body: [UInt8] = []
        while true {
            do { body += try readSome(max: 65536) } catch HTTPTestError.connectionClosed { close(); return body }
        }
    }
}
