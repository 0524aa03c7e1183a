import Config
import Guardrails
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
import TollgateCore
@testable import Worker

@Suite struct GuardrailsFilterTests {
    static let key = "tg-guard-key"

    static func config() throws -> RuntimeConfig {
        func check(_ name: String, _ type: GatewayConfig.GuardrailCheckConfig.CheckType, _ action: GuardrailAction) -> GatewayConfig.GuardrailCheckConfig {
            GatewayConfig.GuardrailCheckConfig(name: name, type: type, action: action)
        }
        var pii = check("pii", .pii, .redact)
        pii.detectors = [.creditCard]
        var words = check("words", .keywords, .block)
        words.keywords = ["falcon"]
        var shadow = check("mail", .pii, .block)
        shadow.detectors = [.email]
        shadow.shadow = true
        var gc = GatewayConfig(
            listeners: [.init(address: "127.0.0.1", port: 8080)],
            providers: [.init(name: "p", kind: .openaiCompatible, baseURL: "http://127.0.0.1:9/v1")],
            models: [.init(name: "m", route: "r")],
            routes: [.init(name: "r", priorities: [.init(backends: [.init(provider: "p", model: "up")])], maxAttempts: 1, guardrails: ["route"])],
            apiKeys: [.init(name: "k", keyHash: APIKeyHash.hash(plaintext: key), models: ["m"], guardrails: ["key", "base"])])
        gc.guardrails = .init(policies: [.init(name: "base", checks: [pii]), .init(name: "route", checks: [shadow]), .init(name: "key", checks: [words])],
                              defaultPolicies: ["base"])
        return try RuntimeConfig(gc, generation: 1)
    }

    static func run(_ body: String) throws -> (RequestContext, GatewayError?) {
        let config = try config()
        let ctx = RequestContext(head: HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/chat/completions",
                                                       headers: ["authorization": "Bearer \(key)"]),
                                 body: ByteBuffer(string: body), query: "", endpoint: .chatCompletions, requestID: "r", config: config)
        var outcome: GatewayError?? = nil
        FilterChain(config: config).run(ctx, eventLoop: EmbeddedEventLoop()) { outcome = .some($0) }
        return (ctx, outcome ?? nil)
    }

    @Test func redactionRewritesTheBodyAndMovesTheModelRange() throws {
        let (ctx, error) = try Self.run(#"{"messages":[{"role":"user","content":"card 4111111111111111 to a@b.io"}],"model":"m","stream_options":{"include_usage":true}}"#)
        #expect(error == nil)
        let body = String(buffer: ctx.body)
        #expect(body == #"{"messages":[{"role":"user","content":"card [REDACTED:CREDIT_CARD] to a@b.io"}],"model":"m","stream_options":{"include_usage":true}}"#)
        let bytes = Array(ctx.body.readableBytesView)
        #expect(ctx.modelRange.map { String(decoding: bytes[$0], as: UTF8.self) } == "\"m\"")
        #expect(ctx.streamOptionsRange.map { String(decoding: bytes[$0], as: UTF8.self) } == #"{"include_usage":true}"#)
        // Defaults, then the route's, then the key's; "base" once.
        #expect(ctx.responseHeaders.first { $0.0 == "x-tollgate-guardrails" }?.1 == "base/pii=redact, route/mail=shadow-block, key/words=pass")
    }

    @Test func blockAnswers403NamingThePolicy() throws {
        let (ctx, error) = try Self.run(#"{"model":"m","messages":[{"role":"user","content":"Project FALCON status?"}]}"#)
        #expect(error?.status == 403 && error?.code == "guardrail_blocked")
        #expect(error?.message == "The request was blocked by guardrail policy 'key' (check 'words', rule 'keyword').")
        #expect(error?.headers.first { $0.0 == "x-tollgate-guardrails" }?.1 == "base/pii=pass, route/mail=pass, key/words=block")
        #expect(String(buffer: ctx.body).contains("FALCON"), "a blocked body is not rewritten")
    }
}

