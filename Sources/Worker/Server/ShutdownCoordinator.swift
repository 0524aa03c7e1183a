#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Logging
import NIOCore

/// Turns signals into the worker's two ways of stopping.
///
/// - SIGTERM (graceful): close the listeners so the kernel sends new connections to the other
///   workers, answer `/readyz` with 503, close idle keep-alive connections, let in-flight
///   requests and streams finish, and exit 0 when the last connection is gone or the grace
///   period ends.
/// - SIGINT / SIGQUIT (fast): exit now.
///
/// NIO has no signal API: the signal is ignored first, then observed with a DispatchSource.
final class ShutdownCoordinator: Sendable {
    private let loop: EventLoop
    private let worker: NIOLoopBound<WorkerContext>
    private let channels: [Channel]
    private let graceMs: Int
    private let logger: Logger

    init(loop: EventLoop, worker: NIOLoopBound<WorkerContext>, channels: [Channel], graceMs: Int, logger: Logger) {
        self.loop = loop
        self.worker = worker
        self.channels = channels
        self.graceMs = graceMs
        self.logger = logger
    }

    /// Installs the handlers; the caller keeps the returned sources alive for the process's life.
    func installSignalHandlers() -> [DispatchSourceSignal] {
        var list: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT, SIGQUIT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .main)
            source.setEventHandler { [self] in
                if sig == SIGTERM {
                    self.drain()
                } else {
                    self.logger.info("fast stop", metadata: ["signal": "\(sig)"])
                    exit(0)
                }
            }
            source.resume()
            list.append(source)
        }
        return list
    }

    private func drain() {
        let graceMs = self.graceMs
        let logger = self.logger
        loop.execute { [self] in
            let worker = self.worker.value
            guard !worker.draining else { return }
            logger.info("draining", metadata: ["connections": "\(worker.connections.count)", "grace_ms": "\(graceMs)"])
            for channel in self.channels {
                channel.close(promise: nil)
            }
            worker.onDrained = {
                logger.info("drained; exiting")
                worker.pool.closeAll()
                exit(0)
            }
            worker.beginDrain()
            self.loop.scheduleTask(in: .milliseconds(Int64(graceMs))) {
                logger.warning("grace period over; exiting with connections still open",
                               metadata: ["connections": "\(worker.connections.count)"])
                exit(0)
            }
        }
    }
}
