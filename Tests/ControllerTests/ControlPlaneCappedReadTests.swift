#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import Controller

/// The control plane's answer is capped while it is read: a body that grows past the cap
/// stops the read, a `Content-Length` above it is refused before the body, and an answer
/// within it arrives whole.
@Suite struct ControlPlaneCappedReadTests {
    /// A one-shot HTTP server on 127.0.0.1:0 that answers the first request with `head` and
    /// then `bodyBytes` bytes, written in 16 KiB pieces (stopping when the client goes).
    final class OneShotServer: @unchecked Sendable {
        let port: Int
        private let fd: Int32

        init(head: String, bodyBytes: Int) throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            self.fd = fd
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = 0
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
            guard bound == 0, listen(fd, 4) == 0 else { throw POSIXError(.EADDRINUSE) }
            _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
            port = Int(UInt16(bigEndian: addr.sin_port))
            let listener = fd
            let thread = Thread {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                defer { close(client) }
                var buffer = [UInt8](repeating: 0, count: 4096)
                _ = read(client, &buffer, buffer.count)
                let out = Array(head.utf8)
                _ = out.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 16 * 1024)
                var sent = 0
                while sent < bodyBytes {
                    let n = chunk.withUnsafeBytes { send(client, $0.baseAddress, min(chunk.count, bodyBytes - sent), Int32(MSG_NOSIGNAL)) }
                    if n <= 0 { return }
                    sent += n
                }
            }
            thread.start()
        }

        deinit { close(fd) }
    }

    @Test func aBodyPastTheCapStopsTheRead() throws {
        let server = try OneShotServer(head: "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", bodyBytes: 4 << 20)
        do {
            _ = try BlockingHTTP.exchange("GET", "http://127.0.0.1:\(server.port)/", timeout: 10, maxBodyBytes: 64 * 1024)
            Issue.record("a 4 MiB body passed a 64 KiB cap")
        } catch {
            #expect("\(error)".contains("cap"), "\(error)")
        }
    }

    @Test func aLargerContentLengthIsRefusedBeforeTheBody() throws {
        let server = try OneShotServer(head: "HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n", bodyBytes: 0)
        do {
            _ = try BlockingHTTP.exchange("GET", "http://127.0.0.1:\(server.port)/", timeout: 10, maxBodyBytes: 1 << 20)
            Issue.record("a 100 MB Content-Length passed a 1 MiB cap")
        } catch {
            #expect("\(error)".contains("announces"), "\(error)")
        }
    }

    @Test func anAnswerWithinTheCapArrivesWhole() throws {
        let server = try OneShotServer(head: "HTTP/1.1 200 OK\r\nContent-Length: 40000\r\nETag: \"e\"\r\n\r\n", bodyBytes: 40_000)
        let reply = try BlockingHTTP.exchange("GET", "http://127.0.0.1:\(server.port)/", timeout: 10, maxBodyBytes: 64 * 1024)
        #expect(reply.status == 200)
        #expect(reply.body.count == 40_000)
        #expect(reply.headers["etag"] == "\"e\"")
    }
}
