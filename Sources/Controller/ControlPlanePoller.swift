import Config
import Dispatch
import Foundation
import Logging

/// Polls the control plane on a thread of its own (blocking HTTP never runs on the
/// controller's signal queue) and publishes each new good config through the controller's
/// `SnapshotPublisher`, on that publisher's queue. Failures are logged every time (with the
/// count), so an outage is never silent; the last good config keeps serving throughout.
final class ControlPlanePoller: @unchecked Sendable {
    private let settings: ControlPlaneSource.Settings
    private let publisher: UncheckedBox<SnapshotPublisher>
    private let publishQueue: DispatchQueue
    private let logger: Logger
    private let wake = DispatchSemaphore(value: 0)
    // Touched only by the polling thread.
    private var state: ControlPlanePollState
    /// Uploads the pod's usage after each poll (nil: no usage table).
    private let uploader: UsageUploader?
    private var uploadFailures = 0

    init(settings: ControlPlaneSource.Settings, publisher: UncheckedBox<SnapshotPublisher>, publishQueue: DispatchQueue, logger: Logger,
         uploader: UsageUploader? = nil) {
        self.settings = settings
        self.uploader = uploader
        self.publisher = publisher
        self.publishQueue = publishQueue
        self.logger = logger
        state = ControlPlanePollState(intervalMs: settings.intervalMs, maxBackoffMs: settings.maxBackoffMs,
                                      appliedETag: ControlPlaneSource.loadLastGood(settings)?.etag)
    }

    func start() {
        let thread = Thread { [self] in
            while true {
                pollOnce()
                uploadUsage()
                _ = wake.wait(timeout: .now() + .milliseconds(state.nextDelayMs(jitter: Double.random(in: -1...1))))
            }
        }
        thread.name = "tollgate-cp-poll"
        thread.start()
    }

    /// SIGHUP in control-plane mode: poll now instead of waiting for the interval.
    func pollNow() { wake.signal() }

    private func pollOnce() {
        let event: ControlPlanePollState.Event
        do {
            switch try ControlPlaneSource.fetch(settings, appliedETag: state.appliedETag, lastError: state.lastError) {
            case .notModified:
                event = .notModified
            case .document(let document):
                event = apply(document)
            }
        } catch {
            event = .failed(reason: "\(error)")
        }
        for action in state.handle(event) {
            switch action {
            case .logUnreachable(let reason, let failures):
                logger.warning("control plane unreachable; serving the last good config",
                               metadata: ["reason": "\(reason)", "failed_polls": "\(failures)", "etag": "\(state.appliedETag ?? "none")"])
            case .logReachableAgain(let failures):
                logger.notice("control plane reachable again", metadata: ["failed_polls": "\(failures)"])
            case .logApplied(let etag):
                logger.info("config from the control plane applied", metadata: ["etag": "\(etag)"])
            case .logRejected(let etag, let reason):
                logger.error("config from the control plane rejected; the last good config stays in force",
                             metadata: ["etag": "\(etag)", "issues": "\(reason)"])
            }
        }
    }

    /// Failures are logged on the first and then every tenth attempt; the batch waits and is
    /// sent again unchanged (see `UsageUploader`).
    private func uploadUsage() {
        guard let uploader else { return }
        switch uploader.uploadOnce(nowSeconds: Int64(Date().timeIntervalSince1970)) {
        case .idle:
            break
        case .uploaded(let rows, let batchID):
            if uploadFailures > 0 { logger.notice("usage upload succeeded again", metadata: ["failed_uploads": "\(uploadFailures)"]) }
            uploadFailures = 0
            logger.debug("usage uploaded", metadata: ["rows": "\(rows)", "batch": "\(batchID)"])
        case .rejected(let reason, let batchID):
            logger.error("usage batch refused by the control plane; dropped", metadata: ["reason": "\(reason)", "batch": "\(batchID)"])
        case .failed(let reason, let batchID):
            uploadFailures += 1
            if uploadFailures % 10 == 1 {
                logger.warning("usage upload failed; it is kept and sent again", metadata: ["reason": "\(reason)", "batch": "\(batchID)",
                                                                                          "failed_uploads": "\(uploadFailures)"])
            }
        }
    }

    private func apply(_ document: ControlPlaneSource.Document) -> ControlPlanePollState.Event {
        let config: GatewayConfig
        do {
            config = try ControlPlaneSource.compile(document)
        } catch {
            return .rejected(etag: document.etag, reason: error.issues.map(\.description).joined(separator: "; "))
        }
        do {
            let outcome = try publishQueue.sync { try publisher.value.publish(loaded: config) }
            try ControlPlaneSource.saveLastGood(document, settings)
            if case .published(let generation) = outcome {
                logger.info("config published", metadata: ["generation": "\(generation)"])
            }
            return .applied(etag: document.etag)
        } catch {
            return .rejected(etag: document.etag, reason: "cannot publish: \(error)")
        }
    }
}
