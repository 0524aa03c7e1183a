import Config
import Dispatch
import Logging
import NIOCore
import SharedState

/// The worker's current config, swapped atomically between requests.
///
/// Every request asks for `current`, which costs one atomic load of the control block's
/// generation (no syscall). When the controller has published a newer generation, the
/// snapshot is read and decoded once on a background queue while requests keep using the
/// old config; the new one is swapped in on the event loop. A snapshot that fails to decode
/// is logged and ignored, so a worker always serves its last good config.
final class ConfigStore {
    private(set) var current: RuntimeConfig
    /// The filter chain built from `current` (once per generation).
    private(set) var chain: FilterChain
    private let eventLoop: EventLoop
    private let controlBlock: ControlBlock?
    private let snapshotPath: String
    private let logger: Logger
    private var reloadingGeneration: UInt64?
    private var failedGeneration: UInt64?
    /// Called on the event loop after a new config was swapped in.
    var onSwap: ((RuntimeConfig, RuntimeConfig) -> Void)?
    private static let queue = DispatchQueue(label: "tollgate.config-reload")

    init(initial: RuntimeConfig, eventLoop: EventLoop, controlBlock: ControlBlock?, snapshotPath: String, logger: Logger) {
        self.current = initial
        self.chain = FilterChain(config: initial)
        self.eventLoop = eventLoop
        self.controlBlock = controlBlock
        self.snapshotPath = snapshotPath
        self.logger = logger
    }

    /// The config for a new request; notices (without blocking) when a newer one exists.
    @inline(__always)
    func config() -> RuntimeConfig {
        if let controlBlock {
            let published = controlBlock.configGeneration
            if published != current.generation, published != reloadingGeneration, published != failedGeneration {
                startReload(published)
            }
        }
        return current
    }

    private func startReload(_ generation: UInt64) {
        reloadingGeneration = generation
        let path = snapshotPath
        let loop = eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        Self.queue.async {
            let result: Result<RuntimeConfig, any Error>
            do {
                let snapshot = try SnapshotFile.read(path: path)
                result = .success(try RuntimeConfig(snapshot.config, generation: snapshot.generation))
            } catch {
                result = .failure(error)
            }
            loop.execute {
                bound.value.finishReload(generation, result)
            }
        }
    }

    private func finishReload(_ generation: UInt64, _ result: Result<RuntimeConfig, any Error>) {
        reloadingGeneration = nil
        switch result {
        case .success(let config):
            guard config.generation > current.generation else { return }
            let old = current
            current = config
            chain = FilterChain(config: config)
            failedGeneration = nil
            logger.info("config swapped", metadata: ["generation": "\(config.generation)", "previous": "\(old.generation)"])
            onSwap?(old, config)
        case .failure(let error):
            failedGeneration = generation
            logger.error("config snapshot rejected; keeping the last good config",
                         metadata: ["generation": "\(generation)", "kept": "\(current.generation)", "error": "\(error)"])
        }
    }
}
