import Config
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
import TollgateCore
@testable import Worker

/// The connection handler in an EmbeddedChannel: every local answer and client error, with
/// no sockets and no upstream.
@Suite struct GatewayConnectionHandlerTests {
    static let key = "tg-unit-key"

    static func config(limits: GatewayConfig.Limits = GatewayConfig.Limits()) throws -> RuntimeConfig {
        let gc = GatewayConfig(
            listeners: [.init(address: "127.0.0.1", port: 8080)],
            limits: limits,
            providers: [.init(name: "p", kind: .openaiCompatible, baseURL: "http://127.0.0.1:9/v1")],
            models: [.init(name: "m", route: "r"), .init(name: "other", route: "r")],
            routes: [.init(name: "r", priorities: [.init(backends: [.init(provider: "p", model: "up")])], maxAttempts: 1)],
            apiKeys: [.init(name: "k", keyHash: APIKeyHash.hash(plaintext: key), models: ["m"])])
        return try RuntimeConfig(gc, generation: 3)
    }

    final class Fixture {
        let channel = EmbeddedChannel()
        let worker: WorkerContext

        init(limits: GatewayConfig.Limits = GatewayConfig.Limits()) throws {
            let loop = channel.embeddedEventLoop
            let config = try GatewayConnectionHandlerTests.config(limits: limits)
            let logger = Logger(label: "test")
            let store = ConfigStore(initial: config, eventLoop: loop, controlBlock: nil, snapshotPath: "/nonexistent", logger: logger)
            worker = WorkerContext(workerID: 0, eventLoop: loop, configStore: store,
                                   pool: UpstreamPool(eventLoop: loop, maxIdlePerOrigin: 1),
                                   controlBlock: nil, logger: logger, accessLog: false)
            let handler = GatewayConnectionHandler(worker: worker)
            try channel.pipeline.syncOperations.addHandler(HTTPServerPipelineHandler())
            try channel.pipeline.syncOperations.addHandler(handler)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        }

        func send(_ method: HTTPMethod, _ uri: String, headers: [(String, String)] = [], body: String? = nil) throws {
            var h = HTTPHeaders(headers)
            if !h.contains(name: "host") { h.add(name: "host", value: "gateway.test") }
            if let body { h.add(name: "content-length", value: String(body.utf8.count)) }
            try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: h)))
            if let body { try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: body))) }
            try channel.writeInbound(HTTPServerRequestPart.end(nil))
        }

        /// The next complete response written to the client.
        func response() throws -> (HTTPResponseHead, String) {
            guard case .head(let head) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
                throw HandlerTestError("no response head")
            }
            var body = ""
            while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) {
                switch part {
                case .body(.byteBuffer(let b)): body += String(buffer: b)
                case .end: return (head, body)
                default: break
                }
            }
            throw HandlerTestError("response did not end")
        }
    }

    struct HandlerTestError: Error { var m: String; init(_ m: String) { self.m = m } }

    let bearer = [("authorization", "Bearer \(GatewayConnectionHandlerTests.key)")]

    @Test func healthAndReadiness() throws {
        let f = try Fixture()
        try f.send(.GET, "/healthz")
        let (h1, b1) = try f.response()
        #expect(h1.status == .ok && b1 == "{\"status\":\"ok\"}")
        try f.send(.GET, "/readyz")
        let (h2, b2) = try f.response()
        #expect(h2.status == .ok && b2.contains("\"generation\":3"))
        #expect(h2.headers.first(name: "x-request-id") != nil)
    }

    @Test func missingAndWrongKeysAre401() throws {
        let f = try Fixture()
        try f.send(.POST, "/v1/chat/completions", body: "{\"model\":\"m\"}")
        let (h, b) = try f.response()
        #expect(h.status == .unauthorized)
        #expect(b.contains("\"code\":\"invalid_api_key\"") && b.contains("didn't provide an API key"))
        try f.send(.POST, "/v1/chat/completions", headers: [("x-api-key", "nope")], body: "{\"model\":\"m\"}")
        #expect(try f.response().0.status == .unauthorized)
    }

    @Test(arguments: [
        ("{\"model\":", 400, "invalid_json"),
        ("[1,2]", 400, "invalid_json"),
        ("{\"messages\":[]}", 400, "missing_model"),
        ("{\"model\":42}", 400, "invalid_model"),
        ("{\"model\":\"nope\"}", 404, "model_not_found"),
        ("{\"model\":\"other\"}", 403, "model_not_allowed"),
    ])
    func requestValidation(body: String, status: Int, code: String) throws {
        let f = try Fixture()
        try f.send(.POST, "/v1/chat/completions", headers: bearer, body: body)
        let (h, b) = try f.response()
        #expect(Int(h.status.code) == status, "\(b)")
        #expect(b.contains("\"code\":\"\(code)\""), "\(b)")
        #expect(b.hasPrefix("{\"error\":{\"message\":"))
    }

    @Test func oversizedBodyIs413AndClosesTheConnection() throws {
        var limits = GatewayConfig.Limits()
        limits.maxBodyBytes = 64
        let f = try Fixture(limits: limits)
        try f.send(.POST, "/v1/chat/completions", headers: bearer, body: String(repeating: "x", count: 100))
        let (h, b) = try f.response()
        #expect(h.status == .payloadTooLarge)
        #expect(b.contains("request_too_large"))
        #expect(h.headers.first(name: "connection") == "close")
    }

    @Test func unknownPathAndWrongMethod() throws {
        let f = try Fixture()
        try f.send(.GET, "/v2/whatever")
        let (h, b) = try f.response()
        #expect(h.status == .notFound && b.contains("unknown_url"))
        try f.send(.GET, "/v1/embeddings", headers: bearer)
        let (h2, _) = try f.response()
        #expect(h2.status == .methodNotAllowed && h2.headers.first(name: "allow") == "POST")
    }

    @Test func modelsListIsFilteredByKey() throws {
        let f = try Fixture()
        try f.send(.GET, "/v1/models", headers: bearer)
        let (h, b) = try f.response()
        #expect(h.status == .ok)
        #expect(b == "{\"object\":\"list\",\"data\":[{\"id\":\"m\",\"object\":\"model\",\"created\":0,\"owned_by\":\"tollgate\"}]}")
    }

    @Test func keepAliveServesSeveralRequests() throws {
        let f = try Fixture()
        for _ in 0..<3 {
            try f.send(.GET, "/healthz")
            #expect(try f.response().0.status == .ok)
        }
        #expect(f.channel.isActive)
    }

    @Test func clientRequestIDIsEchoedWhenSane() throws {
        let f = try Fixture()
        try f.send(.GET, "/healthz", headers: [("x-request-id", "abc-123")])
        #expect(try f.response().0.headers.first(name: "x-request-id") == "abc-123")
        try f.send(.GET, "/healthz", headers: [("x-request-id", String(repeating: "z", count: 500))])
        #expect(try f.response().0.headers.first(name: "x-request-id")?.hasPrefix("req_") == true)
    }
}
