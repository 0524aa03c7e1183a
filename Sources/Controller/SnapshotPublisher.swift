import Config
import Foundation
import Logging
import SharedState

/// Compiles a config source into the next snapshot generation and publishes it.
///
/// The order is what makes reloads safe: validate fully first (a config with any error never
/// gets written), write the snapshot durably (temp + fsync + rename), and only then bump the
/// generation in the control block, which is what workers watch. A config that compiles to
/// exactly what is already published is not republished, so repeated SIGHUPs are free.
public final class SnapshotPublisher {
    public enum Outcome: Equatable, Sendable {
        case published(generation: UInt64)
        case unchanged(generation: UInt64)
    }

    private let configPath: String
    private let paths: RunPaths
    private let controlBlock: ControlBlock
    private var current: GatewayConfig?

    public init(configPath: String, paths: RunPaths, controlBlock: ControlBlock, current: GatewayConfig? = nil) {
        self.configPath = configPath
        self.paths = paths
        self.controlBlock = controlBlock
        self.current = current
    }

    /// The config of the newest published snapshot, if any.
    public var published: GatewayConfig? { current }

    /// Re-reads the config source; throws `ConfigLoadError` (every issue, with paths) or a
    /// snapshot write error, in which case nothing changed.
    public func publish(environment: [String: String]) throws -> Outcome {
        let loaded = try ConfigLoader.load(path: configPath, environment: environment)
        let config = try CredentialRefresher.refresh(loaded, previous: current)
        return try publish(config)
    }

    /// Publishes a config compiled from another source (the control plane), after the same
    /// credential minting a file config gets.
    public func publish(loaded: GatewayConfig) throws -> Outcome {
        try publish(try CredentialRefresher.refresh(loaded, previous: current))
    }

    /// Renews short-lived credentials (Vertex tokens) of the published config when they are
    /// due, and publishes the result; nil when nothing was due.
    public func refreshCredentials(now: Int = Int(Date().timeIntervalSince1970)) throws -> Outcome? {
        guard let current, let due = CredentialRefresher.nextRefresh(current), due <= now else { return nil }
        return try publish(try CredentialRefresher.refresh(current, previous: nil, now: now))
    }

    private func publish(_ config: GatewayConfig) throws -> Outcome {
        let generation = controlBlock.configGeneration
        if let current, current == config, generation > 0 {
            return .unchanged(generation: generation)
        }
        let next = generation + 1
        try SnapshotFile.write(config, generation: next, to: paths.snapshot)
        controlBlock.publishConfigGeneration(next)
        current = config
        return .published(generation: next)
    }
}
