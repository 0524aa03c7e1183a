#if canImport(Glibc)
import Glibc
#endif
import Config
import Dispatch
import Foundation
import Logging
import SharedState

/// The supervisor's loop, nginx's master loop in Swift: the handled signals are blocked and
/// collected with `sigtimedwait` on the main thread, so a signal only ever runs as an ordinary
/// event between others, never in the middle of one; timers (respawn backoff, grace periods,
/// readiness polling) run from the same loop. No other thread exists.
///
/// It must be the main thread, and never Dispatch: children get a parent-death signal, which
/// the kernel sends when the *thread* that spawned them exits. `dispatchMain()` exits the main
/// thread and libdispatch retires idle worker threads after a few seconds, which would take
/// every child down with them.
final class ProcessSupervisor {
    private enum Phase: Equatable {
        case starting
        case running
        case draining
        case stopping
    }

    private struct Child {
        var spec: ChildSpec
        var startedAt: UInt64
        var history = RestartPolicy.History()
    }

    private let options: SupervisorMain.Options
    private let config: GatewayConfig
    private let paths: RunPaths
    private let controlBlock: ControlBlock
    private let quotaTable: QuotaTable
    private let ownsRunDirectory: Bool
    private let logger: Logger
    private let executable = ChildProcess.currentExecutable()
    private var timers: [(due: UInt64, action: () -> Void)] = []
    private let policy = RestartPolicy()
    private var phase: Phase = .starting
    private var children: [pid_t: Child] = [:]
    private var histories: [String: RestartPolicy.History] = [:]
    private var exitCode: Int32 = 0

    init(options: SupervisorMain.Options, config: GatewayConfig, paths: RunPaths, controlBlock: ControlBlock,
         quotaTable: QuotaTable, ownsRunDirectory: Bool, logger: Logger) {
        self.options = options
        self.config = config
        self.paths = paths
        self.controlBlock = controlBlock
        self.quotaTable = quotaTable
        self.ownsRunDirectory = ownsRunDirectory
        self.logger = logger
    }

    static let handledSignals = [SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT]

    static func handledSignalSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for sig in handledSignals { sigaddset(&set, sig) }
        return set
    }

    static func blockHandledSignals() {
        var set = handledSignalSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    func run() -> Never {
        var set = Self.handledSignalSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
        start()
        while true {
            runDueTimers()
            let now = monotonicMs()
            let wait = min(250, timers.map { $0.due > now ? $0.due - now : 0 }.min() ?? 250)
            var timeout = timespec(tv_sec: Int(wait / 1000), tv_nsec: Int(wait % 1000) * 1_000_000)
            let sig = sigtimedwait(&set, nil, &timeout)
            if sig > 0 {
                handle(signal: sig)
            }
            // SIGCHLDs coalesce; reaping every turn never misses a child.
            reap()
        }
    }

    private func schedule(inMs delay: UInt64, _ action: @escaping () -> Void) {
        timers.append((monotonicMs() + delay, action))
    }

    private func runDueTimers() {
        let now = monotonicMs()
        let due = timers.filter { $0.due <= now }
        timers.removeAll { $0.due <= now }
        for timer in due { timer.action() }
    }

    // MARK: - Start

    private func start() {
        let log = options.logArguments
        var specs: [ChildSpec] = [ChildSpec(role: .controller, arguments: ["controller", "--run-dir", paths.runDirectory]
            + (options.controlPlane?.arguments ?? ["--config", options.configPath]) + log)]
        if let mock = config.mockProvider {
            specs.append(ChildSpec(role: .mockProvider, arguments: ["mock-provider", "--host", mock.address, "--port", String(mock.port), "--threads", "1"]))
        }
        for id in 0..<options.workers {
            var args = ["worker", "--id", String(id), "--run-dir", paths.runDirectory] + log
            if options.accessLog { args.append("--access-log") }
            specs.append(ChildSpec(role: .worker(id), arguments: args))
        }
        for spec in specs {
            guard spawn(spec) else {
                fail(code: SupervisorMain.ExitCode.osError.rawValue)
                return
            }
        }
        waitForReady(deadline: monotonicMs() + 20_000)
    }

    @discardableResult
    private func spawn(_ spec: ChildSpec) -> Bool {
        do {
            let pid = try ChildProcess.spawn(executable: executable, arguments: spec.arguments, role: spec.role.description)
            var child = Child(spec: spec, startedAt: monotonicMs())
            child.history = histories[spec.role.description] ?? RestartPolicy.History()
            children[pid] = child
            logger.debug("spawned", metadata: ["child": "\(spec.role)", "pid": "\(pid)"])
            return true
        } catch {
            logger.critical("\(error)")
            return false
        }
    }

    /// Ready = every worker has bound its listeners (it then writes its pid into its slot).
    private func waitForReady(deadline: UInt64) {
        guard phase == .starting else { return }
        let workerPids = Dictionary(uniqueKeysWithValues: children.compactMap { pid, child -> (Int, pid_t)? in
            if case .worker(let id) = child.spec.role { return (id, pid) }
            return nil
        })
        let ready = (0..<options.workers).allSatisfy { id in
            guard let pid = workerPids[id] else { return false }
            return controlBlock.stats(slot: id).value(.pid) == UInt64(pid)
        }
        if ready {
            phase = .running
            let listeners = config.listeners.map { "http://\($0.address.contains(":") ? "[\($0.address)]" : $0.address):\($0.port)" }
            logger.info("ready", metadata: ["workers": "\(options.workers)", "listeners": "\(listeners.joined(separator: ","))"])
            let line = "tollgate ready: \(options.workers) worker(s) listening on \(listeners.joined(separator: ", ")) (config generation \(controlBlock.configGeneration), run dir \(paths.runDirectory))\n"
            FileHandle.standardOutput.write(Data(line.utf8))
            return
        }
        if monotonicMs() > deadline {
            logger.critical("workers did not become ready within 20 s; stopping")
            fail(code: SupervisorMain.ExitCode.startupFailed.rawValue)
            return
        }
        schedule(inMs: 25) { [unowned self] in
            self.waitForReady(deadline: deadline)
        }
    }

    // MARK: - Signals

    private func handle(signal sig: Int32) {
        switch sig {
        case SIGCHLD:
            break
        case SIGHUP:
            guard let (pid, _) = children.first(where: { $0.value.spec.role == .controller }) else {
                logger.error("reload requested but the controller is not running; it will reload when respawned")
                return
            }
            logger.info("reload requested; forwarding to the controller")
            kill(pid, SIGHUP)
        case SIGTERM:
            beginDrain()
        default:
            fastStop()
        }
    }

    private func beginDrain() {
        guard phase == .starting || phase == .running else { return }
        phase = .draining
        let grace = config.limits.shutdownGraceMs
        logger.info("draining workers", metadata: ["grace_ms": "\(grace)"])
        signalChildren(SIGTERM, workersOnly: true)
        if !children.values.contains(where: { if case .worker = $0.spec.role { return true } else { return false } }) {
            stopAuxiliaries()
        }
        schedule(inMs: UInt64(grace + 5_000)) { [unowned self] in
            guard !self.children.isEmpty else { return }
            self.logger.error("children still running after the grace period; killing them")
            self.signalChildren(SIGKILL, workersOnly: false)
        }
    }

    private func fastStop() {
        guard phase != .stopping else {
            signalChildren(SIGKILL, workersOnly: false)
            return
        }
        phase = .stopping
        logger.info("fast stop")
        signalChildren(SIGINT, workersOnly: false)
        schedule(inMs: 3_000) { [unowned self] in
            self.signalChildren(SIGKILL, workersOnly: false)
        }
        finishIfIdle()
    }

    private func stopAuxiliaries() {
        phase = .stopping
        signalChildren(SIGTERM, workersOnly: false)
        finishIfIdle()
    }

    private func signalChildren(_ sig: Int32, workersOnly: Bool) {
        for (pid, child) in children {
            if workersOnly, case .worker = child.spec.role {
                kill(pid, sig)
            } else if !workersOnly {
                kill(pid, sig)
            }
        }
    }

    private func fail(code: Int32) {
        exitCode = code
        phase = .stopping
        signalChildren(SIGKILL, workersOnly: false)
        finishIfIdle()
    }

    // MARK: - Children

    private func reap() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { break }
            guard let child = children.removeValue(forKey: pid) else { continue }
            childExited(child, pid: pid, status: status)
        }
        finishIfIdle()
    }

    private func childExited(_ child: Child, pid: pid_t, status: Int32) {
        let how = ChildProcess.describe(status: status)
        switch phase {
        case .draining:
            logger.info("child exited", metadata: ["child": "\(child.spec.role)", "pid": "\(pid)", "status": "\(how)"])
            let workersLeft = children.values.contains { if case .worker = $0.spec.role { return true } else { return false } }
            if !workersLeft { stopAuxiliaries() }
            return
        case .stopping:
            logger.debug("child exited", metadata: ["child": "\(child.spec.role)", "status": "\(how)"])
            return
        case .starting:
            if case .worker = child.spec.role, let code = ChildProcess.exitCode(status: status), code == 70 || code == 71 {
                logger.critical("a worker could not start; stopping", metadata: ["child": "\(child.spec.role)", "status": "\(how)"])
                fail(code: SupervisorMain.ExitCode.startupFailed.rawValue)
                return
            }
        case .running:
            break
        }
        if case .worker(let id) = child.spec.role {
            // Its in-flight requests died with it: free their concurrency slots now, before a
            // replacement starts counting in the same column.
            let released = quotaTable.releaseAll(worker: id)
            if released > 0 { logger.info("released a dead worker's concurrency slots", metadata: ["child": "\(child.spec.role)", "slots": "\(released)"]) }
        }
        let ranFor = monotonicMs() - child.startedAt
        var history = child.history
        let decision = policy.decide(ranForMs: ranFor, history: &history)
        histories[child.spec.role.description] = history
        var meta: Logger.Metadata = [
            "child": "\(child.spec.role)", "pid": "\(pid)", "status": "\(how)",
            "ran_ms": "\(ranFor)", "respawn_in_ms": "\(decision.delayMs)",
        ]
        if decision.crashLoop {
            meta["quick_deaths"] = "\(history.quickDeaths)"
            logger.error("child is crash-looping; respawning with backoff", metadata: meta)
        } else {
            logger.warning("child died unexpectedly; respawning", metadata: meta)
        }
        let spec = child.spec
        schedule(inMs: decision.delayMs) { [unowned self] in
            guard self.phase == .running || self.phase == .starting else { return }
            self.spawn(spec)
        }
    }

    private func finishIfIdle() {
        guard phase == .stopping, children.isEmpty else { return }
        logger.info("stopped", metadata: ["exit_code": "\(exitCode)"])
        if ownsRunDirectory {
            unlink(paths.snapshot)
            unlink(paths.controlBlock)
            unlink(paths.quotaTable)
            rmdir(paths.runDirectory)
        }
        exit(exitCode)
    }

    private func monotonicMs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
    }
}
