import NIOCore
import NIOHTTP1
import NIOPosix

/// The built-in mock provider: an HTTP/1.1 server (keep-alive, pipelining) that speaks the
/// upstream wire formats Tollgate talks to, so the quickstart, the live tests and the
/// benchmark need no real API key. OpenAI (chat completions plain and streamed, embeddings,
/// models, Azure deployments), Anthropic Messages, Gemini and Vertex AI, Bedrock Converse;
/// each request can ask for latency, a token rate, a reply length or an injected fault
/// (`MockControls`), and `GET /mock/requests` shows what was received (`RequestLog`).
///
/// Every request is answered on its connection's event loop by `MockHTTPHandler`, from a
/// `MockReply` built by `MockRouter` with byte appends: a few microseconds of CPU, so the mock
/// is never the bottleneck of a benchmark. It must not be used by production code paths.
public struct MockProviderServer: Sendable {
    private let channel: Channel

    /// The port the server listens on (the ephemeral one when started with port 0).
    public let localPort: Int

    /// Binds `host:port` (0: an ephemeral port) and starts serving on `group`.
    public static func start(host: String, port: Int, group: MultiThreadedEventLoopGroup) throws -> MockProviderServer {
        let router = MockRouter(log: RequestLog(), ids: MockIDs())
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MockHTTPHandler(router: router))
                }
            }
            .bind(host: host, port: port)
            .wait()
        guard let bound = channel.localAddress?.port else {
            try? channel.close().wait()
            throw MockProviderError.noLocalAddress(host: host, port: port)
        }
        return MockProviderServer(channel: channel, localPort: bound)
    }

    /// Stops listening and waits until the listener is closed. Connections already open stay
    /// until their event loop group shuts down.
    public func close() throws {
        try channel.close().wait()
    }
}
