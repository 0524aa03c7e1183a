#if canImport(Glibc)
import Glibc
#endif
import Config
import Controller
import Dispatch
import Foundation
import Logging
import SharedState

/// `tollgate serve`: the supervisor. It validates the config (refusing to start on any
/// error), creates the run directory, control block and first snapshot, then spawns the
/// controller, the workers and (if configured) the mock provider, and supervises them.
///
/// Like nginx's master process it owns the signals: SIGHUP reloads the config through the
/// controller with no worker restart (so no request is dropped), SIGTERM drains, SIGINT and
/// SIGQUIT stop fast, and a child that dies is respawned with backoff.
public enum SupervisorMain {
    public struct Options: Sendable {
        public var configPath: String
        public var workers: Int
        public var runDirectory: String?
        public var logArguments: [String]
        public var accessLog: Bool
        /// Control-plane mode: the config comes from the management plane (or the last good one
        /// saved from it), not from `configPath`.
        public var controlPlane: ControlPlaneSource.Settings?

        public init(configPath: String, workers: Int, runDirectory: String?, logArguments: [String], accessLog: Bool,
                    controlPlane: ControlPlaneSource.Settings? = nil) {
            self.configPath = configPath
            self.workers = workers
            self.runDirectory = runDirectory
            self.logArguments = logArguments
            self.accessLog = accessLog
            self.controlPlane = controlPlane
        }
    }

    /// Why `tollgate serve` exited.
    public enum ExitCode: Int32 {
        /// Stopped by SIGTERM/SIGINT/SIGQUIT after a clean shutdown.
        case stopped = 0
        /// A worker or the controller could not start (port in use, unreadable run dir…).
        case startupFailed = 1
        /// The config has errors; each was printed with its path.
        case configInvalid = 78
        /// The run directory, control block or a child process could not be created.
        case osError = 71
    }

    public static func run(_ options: Options) -> Int32 {
        // Block the handled signals before anything can start a thread (minting Vertex tokens
        // uses URLSession): threads inherit the mask, so every signal stays pending for the
        // master loop's sigtimedwait instead of killing the process from some other thread.
        ProcessSupervisor.blockHandledSignals()
        let logger = Logger(label: "tollgate.supervisor")
        var config: GatewayConfig
        if let controlPlane = options.controlPlane {
            do {
                config = try ControlPlaneSource.bootstrap(controlPlane, logger: logger).0
            } catch {
                FileHandle.standardError.write(Data("tollgate: \(error)\n".utf8))
                return ExitCode.configInvalid.rawValue
            }
        } else {
            do {
                config = try ConfigLoader.load(path: options.configPath)
            } catch {
                FileHandle.standardError.write(Data("tollgate: config \(options.configPath) is invalid; not starting:\n\(error)\n".utf8))
                return ExitCode.configInvalid.rawValue
            }
        }
        do {
            config = try CredentialRefresher.refresh(config)
        } catch {
            FileHandle.standardError.write(Data("tollgate: \(error); not starting\n".utf8))
            return ExitCode.startupFailed.rawValue
        }

        // Workers bind with SO_REUSEPORT, which would let them silently share a port with
        // another running gateway (the kernel would split clients between the two). Refuse
        // instead. The probe socket is closed before any child is spawned.
        for listener in config.listeners + (config.admin.map { [$0] } ?? []) {
            if let problem = ListenerProbe.inUse(address: listener.address, port: listener.port) {
                FileHandle.standardError.write(Data("tollgate: cannot listen on \(listener.address):\(listener.port): \(problem)\n".utf8))
                return ExitCode.startupFailed.rawValue
            }
        }

        let ownsRunDirectory = options.runDirectory == nil
        let runDirectory = options.runDirectory ?? "/tmp/tollgate-\(getuid())-\(getpid())"
        if mkdir(runDirectory, 0o700) != 0 && errno != EEXIST {
            logger.critical("cannot create run directory", metadata: ["path": "\(runDirectory)", "error": "\(String(cString: strerror(errno)))"])
            return ExitCode.osError.rawValue
        }
        let paths = RunPaths(runDirectory: runDirectory)
        let controlBlock: ControlBlock
        let quotaTable: QuotaTable
        do {
            controlBlock = try ControlBlock.create(path: paths.controlBlock, workerSlots: options.workers)
            // Sized once per start (quotas.table_slots); a reload keeps the table and its counters.
            quotaTable = try QuotaTable.create(path: paths.quotaTable, capacity: config.quotas.tableSlots, workerSlots: options.workers)
            try SnapshotFile.write(config, generation: 1, to: paths.snapshot)
            controlBlock.publishConfigGeneration(1)
        } catch {
            logger.critical("cannot prepare the run directory", metadata: ["error": "\(error)"])
            return ExitCode.osError.rawValue
        }

        let supervisor = ProcessSupervisor(options: options, config: config, paths: paths, controlBlock: controlBlock,
                                           quotaTable: quotaTable, ownsRunDirectory: ownsRunDirectory, logger: logger)
        supervisor.run()
    }
}
