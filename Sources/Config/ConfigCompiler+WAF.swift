import Foundation
import Yams

/// The `waf:` section. Everything ModSecurity would only reject when a worker compiles the
/// rules, and that can be checked here, is checked here, with the path and line of the key.
extension ConfigCompiler {
    static let wafKeys = ["enabled", "mode", "paranoia_level", "anomaly_threshold", "rules_dir",
                          "exclude_rule_ids", "exclude_args", "extra_rules_file"]

    mutating func compileWAF(_ node: Node?) -> WAFConfig {
        var waf = WAFConfig()
        guard let node, !YAMLReader.isNull(node) else { return waf }
        guard let m = reader.mapping(node, "waf", allowed: Self.wafKeys) else { return waf }
        if let enabled = bool(m["enabled"], "waf.enabled") { waf.enabled = enabled }
        if let mode = reader.string(m["mode"], "waf.mode") {
            if let parsed = WAFConfig.Mode(rawValue: mode) {
                waf.mode = parsed
            } else {
                reader.issue("waf.mode", m["mode"], "unknown mode \"\(mode)\"; valid: block, detect")
            }
        }
        if let level = reader.int(m["paranoia_level"], "waf.paranoia_level") {
            if (1...4).contains(level) {
                waf.paranoiaLevel = level
            } else {
                reader.issue("waf.paranoia_level", m["paranoia_level"], "paranoia_level must be between 1 and 4, got \(level)")
            }
        }
        if let threshold = reader.int(m["anomaly_threshold"], "waf.anomaly_threshold") {
            if (1...10_000).contains(threshold) {
                waf.anomalyThreshold = threshold
            } else {
                reader.issue("waf.anomaly_threshold", m["anomaly_threshold"], "anomaly_threshold must be between 1 and 10000, got \(threshold)")
            }
        }
        if let dir = reader.nonEmptyString(m["rules_dir"], "waf.rules_dir") { waf.rulesDirectory = dir }
        if let ids = reader.sequence(m["exclude_rule_ids"], "waf.exclude_rule_ids") {
            for (i, item) in ids.enumerated() {
                guard let id = reader.int(item, "waf.exclude_rule_ids[\(i)]") else { continue }
                guard (1...99_999_999).contains(id) else {
                    reader.issue("waf.exclude_rule_ids[\(i)]", item, "rule ids are positive integers (e.g. 942100), got \(id)")
                    continue
                }
                waf.excludeRuleIDs.append(id)
            }
        }
        if let args = reader.sequence(m["exclude_args"], "waf.exclude_args") {
            for (i, item) in args.enumerated() {
                guard let arg = reader.nonEmptyString(item, "waf.exclude_args[\(i)]") else { continue }
                if let problem = Self.excludedArgProblem(arg) {
                    reader.issue("waf.exclude_args[\(i)]", item, problem)
                    continue
                }
                waf.excludeArgs.append(arg)
            }
        }
        if let file = reader.nonEmptyString(m["extra_rules_file"], "waf.extra_rules_file") {
            if waf.enabled, !FileManager.default.isReadableFile(atPath: file) {
                reader.issue("waf.extra_rules_file", m["extra_rules_file"], "cannot read \(file)")
            }
            waf.extraRulesFile = file
        }
        // A disabled WAF may name a rules directory that only exists on the machines that
        // will turn it on; an enabled one must find the CRS now, not when a worker starts.
        if waf.enabled, waf.crsRulesDirectory == nil {
            reader.issue("waf.rules_dir", m["rules_dir"] ?? m["enabled"] ?? node,
                         "no OWASP CRS found in \(waf.rulesDirectory) (expected rules/REQUEST-949-BLOCKING-EVALUATION.conf; install Debian's modsecurity-crs)")
        }
        return waf
    }

    /// Why `arg` cannot be written into a ModSecurity target list, or nil. The rule parser
    /// splits targets on `|` and the directive on quotes and whitespace, so those would
    /// silently change the meaning of the generated exclusion.
    static func excludedArgProblem(_ arg: String) -> String? {
        if arg.contains(where: \.isWhitespace) { return "argument names may not contain whitespace (got \"\(arg)\")" }
        for (char, name) in [("\"", "quotes"), ("|", "'|'"), (",", "','")] where arg.contains(char) {
            return "argument names may not contain \(name) (got \"\(arg)\")"
        }
        if arg.hasPrefix("/") != (arg.count > 1 && arg.hasSuffix("/")) {
            return "a regex must start and end with '/' (e.g. /^json\\.metadata\\./), got \"\(arg)\""
        }
        if arg.hasPrefix("/"), (try? Regex(String(arg.dropFirst().dropLast()))) == nil {
            return "\"\(arg)\" is not a valid regular expression"
        }
        return nil
    }

    /// YAML booleans as Yams reads them (`true`/`false`, `yes`/`no`, `on`/`off`).
    mutating func bool(_ node: Node?, _ path: String) -> Bool? {
        guard let node, !YAMLReader.isNull(node) else { return nil }
        guard case .scalar(let s) = node, s.style == .plain || s.style == .any, let value = Bool.construct(from: s) else {
            reader.issue(path, node, "expected true or false, got \(YAMLReader.describe(node))")
            return nil
        }
        return value
    }
}
