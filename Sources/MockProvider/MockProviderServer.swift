#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The built-in mock provider: an HTTP/1.1 server speaking OpenAI's chat completions (plain
/// and streamed), embeddings and models, with per-request latency, token rate, size and
/// injected faults. The quickstart, the live tests and the benchmark all run against it, so
/// nothing needs a real API key.
public struct MockProviderServer: Sendable {
    private let channel: Channel
    public let localPort: Int

    public static func start(host: String, port: Int, group: MultiThreadedEventLoopGroup) throws -> MockProviderServer {
        let log = RequestLog()
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                do {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MockHTTPHandler(log: log))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .bind(host: host, port: port)
            .wait()
        return MockProviderServer(channel: channel, localPort: channel.localAddress?.port ?? port)
    }

    public func close() throws {
        try channel.close().wait()
    }
}

/// `tollgate mock-provider`: runs the server until SIGTERM or SIGINT.
public enum MockProviderMain {
    public static func run(host: String, port: Int, threads: Int) -> Never {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let server: MockProviderServer
        do {
            server = try MockProviderServer.start(host: host, port: port, group: group)
        } catch {
            FileHandle.standardError.write(Data("mock-provider: cannot listen on \(host):\(port): \(error)\n".utf8))
            exit(1)
        }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        FileHandle.standardOutput.write(Data("mock-provider listening on http://\(shownHost):\(server.localPort)\n".utf8))
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .main)
            source.setEventHandler {
                try? server.close()
                exit(0)
            }
            source.resume()
            sources.append(source)
        }
        withExtendedLifetime(sources) {
            dispatchMain()
        }
    }
}
