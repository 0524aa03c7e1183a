/// Where the processes of one data plane find each other: files inside the run directory the
/// supervisor creates (0700) before it spawns anything.
public struct RunPaths: Sendable {
    public let runDirectory: String
    public init(runDirectory: String) { self.runDirectory = runDirectory }
    /// The current config snapshot (written by the supervisor at start, then by the controller).
    public var snapshot: String { runDirectory + "/config.snap" }
    /// The control block every process maps.
    public var controlBlock: String { runDirectory + "/control.shm" }
    /// The quota table (rate limits, budgets) every worker charges and the controller syncs.
    public var quotaTable: String { runDirectory + "/quota.shm" }
    /// Usage aggregates per key × model × interval (workers add, the controller uploads).
    public var usageTable: String { runDirectory + "/usage.shm" }
}
