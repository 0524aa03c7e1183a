import Foundation

/// The optional web application firewall: ModSecurity v3 with the OWASP Core Rule Set,
/// inspecting each API request after authentication and before quotas and guardrails.
///
/// Compiled from the YAML `waf:` section. Disabled by default; when disabled the worker
/// builds no engine and the filter costs one nil check per request. Paths are checked at
/// config time (the rules directory must hold the CRS), the rule text itself when a worker
/// compiles the engine for a new generation.
public struct WAFConfig: Codable, Sendable, Equatable {
    /// What a request that reaches the anomaly threshold gets.
    public enum Mode: String, Codable, Sendable, Equatable, CaseIterable {
        /// Answer 403 in the front's error shape; the request goes nowhere.
        case block
        /// Log the rules that would have blocked and let the request through (for tuning).
        case detect
    }

    public var enabled: Bool
    public var mode: Mode
    /// CRS paranoia level 1–4 (`tx.paranoia_level` and `tx.blocking_paranoia_level`).
    public var paranoiaLevel: Int
    /// CRS inbound anomaly score threshold (`tx.inbound_anomaly_score_threshold`); one
    /// critical match scores 5.
    public var anomalyThreshold: Int
    /// The CRS installation: its `rules/` subdirectory (or the directory itself) holds the
    /// `REQUEST-*.conf` files.
    public var rulesDirectory: String
    /// CRS rule ids removed entirely (`SecRuleRemoveById`).
    public var excludeRuleIDs: [Int]
    /// Request arguments no CRS rule inspects, as ModSecurity names them: `json.user`,
    /// `q`, or a regex between slashes such as `/^json\.metadata\./`.
    public var excludeArgs: [String]
    /// Extra ModSecurity rules loaded after the CRS and the exclusions.
    public var extraRulesFile: String?

    public static let defaultRulesDirectory = "/usr/share/modsecurity-crs"

    public init(enabled: Bool = false, mode: Mode = .block, paranoiaLevel: Int = 1, anomalyThreshold: Int = 5,
                rulesDirectory: String = WAFConfig.defaultRulesDirectory, excludeRuleIDs: [Int] = [],
                excludeArgs: [String] = [], extraRulesFile: String? = nil) {
        self.enabled = enabled
        self.mode = mode
        self.paranoiaLevel = paranoiaLevel
        self.anomalyThreshold = anomalyThreshold
        self.rulesDirectory = rulesDirectory
        self.excludeRuleIDs = excludeRuleIDs
        self.excludeArgs = excludeArgs
        self.extraRulesFile = extraRulesFile
    }

    /// The directory holding the CRS `REQUEST-*.conf` files: `rules/` under `rulesDirectory`
    /// (Debian's layout and the CRS release tarball's) or `rulesDirectory` itself; nil when
    /// neither has the CRS.
    public var crsRulesDirectory: String? {
        for candidate in [rulesDirectory + "/rules", rulesDirectory]
        where FileManager.default.fileExists(atPath: candidate + "/REQUEST-949-BLOCKING-EVALUATION.conf") {
            return candidate
        }
        return nil
    }
}
