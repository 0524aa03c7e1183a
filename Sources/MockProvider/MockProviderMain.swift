import Dispatch
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `tollgate mock-provider --host H --port P --threads N`: the mock as a process.
public enum MockProviderMain {
    /// Starts the server on `threads` event loops, prints exactly one line,
    /// `mock-provider listening on http://HOST:PORT` (flushed: tests parse the port from it),
    /// then runs until SIGTERM or SIGINT, when it closes the listener and exits 0.
    public static func run(host: String, port: Int, threads: Int) -> Never {
        // Blocked before any thread exists, so every thread inherits the mask and the signals
        // wait for the dispatch sources instead of hitting a thread that would drop them.
        var set = sigset_t()
        sigemptyset(&set)
        for sig in [SIGTERM, SIGINT] {
            sigaddset(&set, sig)
            signal(sig, SIG_IGN)
        }
        pthread_sigmask(SIG_BLOCK, &set, nil)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        let server: MockProviderServer
        do {
            server = try MockProviderServer.start(host: host, port: port, group: group)
        } catch {
            writeLine("mock-provider: cannot listen on \(host):\(port): \(error)", to: STDERR_FILENO)
            exit(1)
        }
        writeLine(banner(host: host, port: server.localPort), to: STDOUT_FILENO)

        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
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

    /// The line `run` prints once listening (IPv6 hosts in brackets, as in a URL).
    static func banner(host: String, port: Int) -> String {
        let shown = host.contains(":") ? "[\(host)]" : host
        return "mock-provider listening on http://\(shown):\(port)"
    }

    /// Writes `line` and a newline straight to `fd` (unbuffered: nothing waits in a buffer
    /// when a parent process reads the port).
    private static func writeLine(_ line: String, to fd: Int32) {
        var bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n > 0 {
                offset += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return
            }
        }
    }
}
