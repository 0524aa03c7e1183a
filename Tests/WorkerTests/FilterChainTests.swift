import Config
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
import TollgateCore
@testable import Worker

@Suite struct FilterChainTests {
    struct Recording: RequestFilter {
        let name: String
        let result: @Sendable (EventLoop) -> FilterResult
        let loop: EventLoop
        func onRequest(_ context: RequestContext) -> FilterResult {
            context.modelName = (context.modelName ?? "") + name
            return result(loop)
        }
    }

    private func context(body: String = "{}", headers: [(String, String)] = []) throws -> RequestContext {
        RequestContext(head: HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/chat/completions", headers: HTTPHeaders(headers)),
                       body: ByteBuffer(string: body), query: "", endpoint: .chatCompletions, requestID: "r",
                       config: try GatewayConnectionHandlerTests.config())
    }

    @Test func runsInOrderAndStopsAtTheFirstResponse() throws {
        let loop = EmbeddedEventLoop()
        let chain = FilterChain(filters: [
            Recording(name: "a", result: { _ in .proceed }, loop: loop),
            Recording(name: "b", result: { _ in .respond(.forbidden("no", code: "nope")) }, loop: loop),
            Recording(name: "c", result: { _ in .proceed }, loop: loop),
        ])
        let ctx = try context()
        var outcome: GatewayError??
        chain.run(ctx, eventLoop: loop) { outcome = .some($0) }
        #expect(ctx.modelName == "ab")
        #expect(outcome??.code == "nope")
    }

    @Test func aSuspendedFilterResumesTheChain() throws {
        let loop = EmbeddedEventLoop()
        let promise = loop.makePromise(of: FilterResult.self)
        let chain = FilterChain(filters: [
            Recording(name: "a", result: { _ in .suspend(promise.futureResult) }, loop: loop),
            Recording(name: "b", result: { _ in .proceed }, loop: loop),
        ])
        let ctx = try context()
        var finished = false
        var outcome: GatewayError?
        chain.run(ctx, eventLoop: loop) { finished = true; outcome = $0 }
        #expect(!finished)
        #expect(ctx.modelName == "a")
        promise.succeed(.proceed)
        loop.run()
        #expect(finished)
        #expect(outcome == nil)
        #expect(ctx.modelName == "ab")
    }

    @Test func theRegisteredChainAuthenticatesParsesAndRoutes() throws {
        let config = try GatewayConnectionHandlerTests.config()
        let chain = FilterChain(config: config)
        #expect(chain.filters.map(\.name) == ["auth", "waf", "request-parsing", "model-access", "quota", "guardrails"])
        let ctx = try context(body: #"{"model":"m","messages":[]}"#, headers: [("authorization", "Bearer \(GatewayConnectionHandlerTests.key)")])
        var outcome: GatewayError?? = nil
        chain.run(ctx, eventLoop: EmbeddedEventLoop()) { outcome = .some($0) }
        #expect(outcome == .some(nil))
        #expect(ctx.key?.name == "k")
        #expect(ctx.route?.name == "r")
        #expect(ctx.modelRange == 9..<12)
    }
}
