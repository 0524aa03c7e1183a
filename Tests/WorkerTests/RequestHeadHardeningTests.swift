import Config
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
import TollgateCore
@testable import Worker

/// What the connection handler decides on a request's head: authentication before the body,
/// `Host` on HTTP/1.1, probe methods; and pipelined requests answered in order.
@Suite struct RequestHeadHardeningTests {
    typealias Fixture = GatewayConnectionHandlerTests.Fixture
    let bearer = [("authorization", "Bearer \(GatewayConnectionHandlerTests.key)")]

    @Test func anUnauthenticatedUploadGets401BeforeItsBodyAndIsCutOff() throws {
        var limits = GatewayConfig.Limits()
        limits.maxRefusedBodyBytes = 64 * 1024
        let f = try Fixture(limits: limits)
        let headers = HTTPHeaders([("host", "gw"), ("content-length", String(10 * 1024 * 1024)), ("content-type", "application/json")])
        try f.channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/chat/completions", headers: headers)))
        // Not one body byte sent yet, and the answer is already out.
        let (head, body) = try f.response()
        #expect(head.status == .unauthorized && body.contains("invalid_api_key"))
        #expect(head.headers.first(name: "connection") == "close")
        let chunk = ByteBuffer(repeating: 0x61, count: 16 * 1024)
        var sent = 0
        while f.channel.isActive && sent < 10 * 1024 * 1024 {
            try f.channel.writeInbound(HTTPServerRequestPart.body(chunk))
            sent += chunk.readableBytes
        }
        #expect(!f.channel.isActive, "the connection closes once the refused body passes the limit")
        #expect(sent <= 64 * 1024 + 2 * chunk.readableBytes, "read \(sent) bytes of a refused upload")
    }

    @Test func aSmallUnauthenticatedRequestKeepsTheConnection() throws {
        let f = try Fixture()
        try f.send(.POST, "/v1/chat/completions", body: #"{"model":"m"}"#)
        #expect(try f.response().0.status == .unauthorized)
        try f.send(.GET, "/healthz")
        #expect(try f.response().0.status == .ok)
    }

    @Test func aBodylessUnauthenticatedPostKeepsTheConnection() throws {
        let f = try Fixture()
        try f.channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/embeddings",
                                                                              headers: HTTPHeaders([("host", "gw")]))))
        try f.channel.writeInbound(HTTPServerRequestPart.end(nil))
        let (head, _) = try f.response()
        #expect(head.status == .unauthorized && head.headers.first(name: "connection") == nil)
        try f.send(.GET, "/healthz")
        #expect(try f.response().0.status == .ok)
    }

    @Test func anthropicFrontRefusalsAreInItsShape() throws {
        let f = try Fixture()
        try f.send(.POST, "/v1/messages", headers: [("x-api-key", "wrong")], body: #"{"model":"m"}"#)
        let (head, body) = try f.response()
        #expect(head.status == .unauthorized && body.hasPrefix("{\"type\":\"error\""))
    }

    @Test func http11WithoutHostIs400() throws {
        let f = try Fixture()
        try f.channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/healthz")))
        try f.channel.writeInbound(HTTPServerRequestPart.end(nil))
        let (head, body) = try f.response()
        #expect(head.status == .badRequest && body.contains("Host"))
        let f2 = try Fixture()
        try f2.channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/healthz",
                                                                               headers: HTTPHeaders([("host", "a"), ("host", "b")]))))
        try f2.channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(try f2.response().0.status == .badRequest)
        // HTTP/1.0 has no Host requirement.
        let f3 = try Fixture()
        try f3.channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_0, method: .GET, uri: "/healthz")))
        try f3.channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(try f3.response().0.status == .ok)
    }

    @Test(arguments: ["/healthz", "/readyz"])
    func probesAnswerGetAndHeadOnly(path: String) throws {
        let f = try Fixture()
        try f.send(.HEAD, path)
        let (head, body) = try f.response()
        #expect(head.status == .ok && body.isEmpty && head.headers.first(name: "content-length") != nil)
        for method in [HTTPMethod.POST, .PUT, .DELETE, .PATCH] {
            try f.send(method, path, body: "{}")
            let (h, _) = try f.response()
            #expect(h.status == .methodNotAllowed && h.headers.first(name: "allow") == "GET, HEAD", "\(method)")
        }
    }

    @Test func metricsAreNotOnTheClientListener() throws {
        let f = try Fixture()
        try f.send(.GET, "/metrics")
        #expect(try f.response().0.status == .notFound)
    }

    @Test func pipelinedRequestsAreAllAnsweredInOrder() throws {
        let f = try Fixture()
        // Three requests arrive before the first is answered (one TCP write).
        try f.send(.GET, "/healthz", headers: [("x-request-id", "first")])
        try f.send(.GET, "/v1/models", headers: bearer + [("x-request-id", "second")])
        try f.send(.POST, "/v1/chat/completions", headers: [("x-request-id", "third")], body: #"{"model":"m"}"#)
        let a = try f.response()
        let b = try f.response()
        let c = try f.response()
        #expect(a.0.headers.first(name: "x-request-id") == "first" && a.0.status == .ok)
        #expect(b.0.headers.first(name: "x-request-id") == "second" && b.1.contains("\"id\":\"m\""))
        #expect(c.0.headers.first(name: "x-request-id") == "third" && c.0.status == .unauthorized)
    }
}
