import Config
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
import TollgateCore
@testable import Worker

/// The WAF filter in the registered chain, with the real CRS (Debian's modsecurity-crs,
/// which `make test` installs). One engine for the suite: building one parses the whole CRS.
@Suite(.serialized) struct WAFFilterTests {
    static let enabled = Result { () throws(RuntimeConfigError) in try WAFFilterTests.config(waf: WAFConfig(enabled: true)) }

    static func config(waf: WAFConfig) throws(RuntimeConfigError) -> RuntimeConfig {
        var gc = GatewayConfig(
            listeners: [.init(address: "127.0.0.1", port: 8080)],
            providers: [.init(name: "p", kind: .openaiCompatible, baseURL: "http://127.0.0.1:9/v1")],
            models: [.init(name: "m", route: "r")],
            routes: [.init(name: "r", priorities: [.init(backends: [.init(provider: "p", model: "up")])], maxAttempts: 1)],
            apiKeys: [.init(name: "k", keyHash: APIKeyHash.hash(plaintext: GatewayConnectionHandlerTests.key), models: ["m"])])
        gc.waf = waf
        return try RuntimeConfig(gc, generation: 1)
    }

    func run(_ config: RuntimeConfig, uri: String = "/v1/chat/completions", body: String, endpoint: RequestContext.Endpoint = .chatCompletions,
             authorized: Bool = true) -> (GatewayError?, RequestContext) {
        // What every HTTP/1.1 client sends (CRS 920180/920280 flag a POST without them).
        var headers = HTTPHeaders([("host", "gateway.local"), ("content-type", "application/json"),
                                   ("content-length", String(body.utf8.count)), ("user-agent", "openai-python/1.54.0")])
        if authorized { headers.add(name: "authorization", value: "Bearer \(GatewayConnectionHandlerTests.key)") }
        let context = RequestContext(head: HTTPRequestHead(version: .http1_1, method: .POST, uri: uri, headers: headers),
                                     body: ByteBuffer(string: body), query: "", endpoint: endpoint, requestID: "req_waf", config: config)
        var outcome: GatewayError?? = nil
        FilterChain(config: config).run(context, eventLoop: EmbeddedEventLoop()) { outcome = .some($0) }
        return (outcome ?? nil, context)
    }

    let chat = #"{"model":"m","messages":[{"role":"user","content":"Explain SELECT * FROM users WHERE id = 1 OR 1=1 and <script>alert(1)</script>"}]}"#

    @Test func runsRightAfterAuth() throws {
        #expect(Array(FilterChain(config: try Self.enabled.get()).filters.map(\.name).prefix(2)) == ["auth", "waf"])
    }

    @Test func sqlInjectionInTheQueryIsRefusedWith403() throws {
        let (error, context) = run(try Self.enabled.get(), uri: "/v1/chat/completions?id=1%27%20OR%201%3D1--", body: chat)
        let blocked = try #require(error)
        #expect(blocked.status == 403)
        #expect(blocked.code == "waf_blocked")
        #expect(blocked.message.contains("942100"))
        #expect(blocked.extraJSONMembers.first?.0 == "waf_rule_ids")
        #expect(blocked.extraJSONMembers.first?.1 == "[942100,949110]")
        #expect(blocked.openAIBody.hasPrefix(#"{"error":{"message":"The request was blocked by the gateway's web application firewall (rules 942100, 949110)."#))
        #expect(blocked.anthropicBody.hasPrefix(#"{"type":"error","error":{"type":"permission_error","message":"#))
        #expect(context.route == nil, "nothing after the WAF ran")
    }

    @Test func promptsAboutSQLAndScriptsPass() throws {
        let (error, context) = run(try Self.enabled.get(), body: chat)
        #expect(error == nil)
        #expect(context.route?.name == "r")
        let anthropic = #"{"model":"m","max_tokens":10,"system":"You review SQL like ' OR 1=1--","messages":[{"role":"user","content":[{"type":"text","text":"<script>alert(1)</script>"}]}]}"#
        #expect(run(try Self.enabled.get(), uri: "/v1/messages", body: anthropic, endpoint: .messages).0 == nil)
    }

    @Test func messagesNeverQuoteTheRequest() throws {
        let (error, _) = run(try Self.enabled.get(), body: #"{"model":"m","user":"zq9marker' OR 1=1--","messages":[]}"#)
        let blocked = try #require(error)
        #expect(!blocked.openAIBody.contains("zq9marker"))
        #expect(!WAFFilter.metadata(RequestContext(head: HTTPRequestHead(version: .http1_1, method: .POST, uri: "/"), body: ByteBuffer(),
                                                   query: "", endpoint: .chatCompletions, requestID: "r", config: try Self.enabled.get()),
                                    [.init(id: 942100, message: "SQL Injection Attack Detected via libinjection")], mode: .block)
            .description.contains("zq9marker"))
    }

    @Test func brokenJSONGetsTheParsersAnswer() throws {
        let (error, _) = run(try Self.enabled.get(), body: #"{"model":"m","messages":[{"#)
        #expect(error?.status == 400)
        #expect(error?.code == "invalid_json")
    }

    @Test func unauthenticatedRequestsGet401NotTheWAF() throws {
        let (error, _) = run(try Self.enabled.get(), uri: "/v1/chat/completions?id=1%27%20OR%201%3D1--", body: chat, authorized: false)
        #expect(error?.status == 401)
    }

    @Test func disabledMeansNoEngine() throws {
        let config = try Self.config(waf: WAFConfig(enabled: false))
        #expect(config.waf == nil)
        let (error, context) = run(config, uri: "/v1/chat/completions?id=1%27%20OR%201%3D1--", body: chat)
        #expect(error == nil)
        #expect(context.route?.name == "r")
    }

    @Test func aBrokenWAFConfigFailsTheGeneration() {
        #expect(throws: RuntimeConfigError.waf("no OWASP CRS in /nonexistent (expected rules/REQUEST-949-BLOCKING-EVALUATION.conf)")) {
            try Self.config(waf: WAFConfig(enabled: true, rulesDirectory: "/nonexistent"))
        }
    }
}
