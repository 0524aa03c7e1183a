#if canImport(Glibc)
import Glibc
#endif
import Config
import CTollgate
import Dispatch
import Foundation
import Logging
import QuotaCluster
import SharedState

/// The controller process (`tollgate controller`, started by the supervisor).
///
/// Owns the config flow: on SIGHUP it re-reads the config source, validates and compiles it,
/// and publishes a new snapshot generation; a config with errors is logged issue by issue and
/// the last good snapshot stays in force. It also runs `QuotaSync` on its own thread: garbage
/// collection of the quota table always, the Redis lease loop when `quotaSync.redis` is set
/// (its leases are released when the controller stops).
public enum ControllerMain {
    public struct Options: Sendable {
        public var configPath: String
        public var runDirectory: String
        /// Quota table maintenance and Redis sync (no Redis by default: GC only).
        public var quotaSync: QuotaSyncSettings
        /// Poll the control plane instead of reading `configPath` (control-plane mode).
        public var controlPlane: ControlPlaneSource.Settings?
        public init(configPath: String, runDirectory: String, quotaSync: QuotaSyncSettings = QuotaSyncSettings(),
                    controlPlane: ControlPlaneSource.Settings? = nil) {
            self.configPath = configPath
            self.runDirectory = runDirectory
            self.quotaSync = quotaSync
            self.controlPlane = controlPlane
        }
    }

    public static func run(_ options: Options) -> Never {
        _ = tg_set_parent_death_signal(SIGTERM)
        let logger = Logger(label: "tollgate.controller")
        let paths = RunPaths(runDirectory: options.runDirectory)
        let publisher: SnapshotPublisher
        do {
            let block = try ControlBlock.open(path: paths.controlBlock)
            let existing = try? SnapshotFile.read(path: paths.snapshot)
            publisher = SnapshotPublisher(configPath: options.configPath, paths: paths, controlBlock: block,
                                          current: existing?.config)
        } catch {
            logger.critical("controller cannot start", metadata: ["error": "\(error)"])
            exit(70)
        }
        // The config's quotas.redis unless the command line set one; the sync loop does not
        // restart on SIGHUP, so a changed Redis takes effect with the next start.
        var syncSettings = options.quotaSync
        if syncSettings.redis == nil, let config = publisher.published {
            syncSettings = QuotaSyncSettings(config.quotas)
        }
        let quotaSync = startQuotaSync(paths: paths, settings: syncSettings, logger: logger)
        let box = UncheckedBox(publisher)
        let syncBox = UncheckedBox(quotaSync)
        let queue = DispatchQueue(label: "tollgate.controller")
        // Control-plane mode: the poller is the config source; SIGHUP polls at once.
        let poller = options.controlPlane.map { settings in
            ControlPlanePoller(settings: settings, publisher: box, publishQueue: queue, logger: logger,
                               uploader: openUsageTable(paths: paths, logger: logger).map { UsageUploader(table: $0, transport: UsageUploader.http(settings)) })
        }
        poller?.start()
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGHUP, SIGTERM, SIGINT, SIGQUIT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler {
                if sig == SIGHUP, let poller {
                    poller.pollNow()
                } else if sig == SIGHUP {
                    reload(box.value, logger: logger)
                } else {
                    // The workers are gone (SIGTERM comes after they drained): give the pod's
                    // unused quota leases back so the other pods can spend them now rather
                    // than after the lease TTL.
                    if let sync = syncBox.value {
                        sync.stop(timeout: 1)
                        if case .failed(let error) = sync.releaseAll() {
                            logger.warning("quota leases not released; Redis takes them back when they expire", metadata: ["error": "\(error)"])
                        }
                    }
                    exit(0)
                }
            }
            source.resume()
            sources.append(source)
        }
        // Short-lived credentials (Vertex AI tokens) are renewed before they expire.
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + 30, repeating: 30)
        timer.setEventHandler {
            do {
                if let outcome = try box.value.refreshCredentials() {
                    logger.info("credentials refreshed", metadata: ["outcome": "\(outcome)"])
                }
            } catch {
                logger.error("credential refresh failed; the current tokens stay until they expire", metadata: ["error": "\(error)"])
            }
        }
        timer.resume()
        logger.info("controller running", metadata: ["config": "\(options.controlPlane.map { "control plane \($0.url)" } ?? options.configPath)"])
        withExtendedLifetime((sources, timer, quotaSync, poller)) {
            dispatchMain()
        }
    }

    /// Maps the quota table the supervisor created and starts its loop; a missing table
    /// (a supervisor without quotas) is logged and skipped, never fatal.
    static func startQuotaSync(paths: RunPaths, settings: QuotaSyncSettings, logger: Logger) -> QuotaSync? {
        let table: QuotaTable
        do {
            table = try QuotaTable.open(path: paths.quotaTable)
        } catch {
            logger.warning("quota table unavailable; no quota garbage collection or Redis sync", metadata: ["error": "\(error)"])
            return nil
        }
        let sync = QuotaSync(table: table, settings: settings, logger: logger)
        sync.start()
        logger.info("quota loop running", metadata: ["settings": "\(settings)"])
        return sync
    }

    /// The usage table the workers add to (created here if the controller is first); its
    /// absence is logged and only disables the upload.
    static func openUsageTable(paths: RunPaths, logger: Logger) -> UsageTable? {
        do {
            return try UsageTable.openOrCreate(path: paths.usageTable)
        } catch {
            logger.warning("usage table unavailable; no usage upload", metadata: ["error": "\(error)"])
            return nil
        }
    }

    static func reload(_ publisher: SnapshotPublisher, logger: Logger) {
        do {
            switch try publisher.publish(environment: ProcessInfo.processInfo.environment) {
            case .published(let generation):
                logger.info("config reloaded", metadata: ["generation": "\(generation)"])
            case .unchanged(let generation):
                logger.info("config unchanged; nothing to publish", metadata: ["generation": "\(generation)"])
            }
        } catch let error as ConfigLoadError {
            logger.error("config reload rejected; the last good config stays in force",
                         metadata: ["issues": .array(error.issues.map { .string($0.description) })])
        } catch {
            logger.error("config reload failed; the last good config stays in force", metadata: ["error": "\(error)"])
        }
    }
}

/// Hands a value confined to one serial queue to that queue's closures.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
