import Foundation
import Guardrails
import Yams

/// The `guardrails:` section and the `guardrails: [names]` references on routes and keys.
extension ConfigCompiler {
    static let guardrailCheckKeys = ["name", "type", "keywords", "keywords_file", "whole_word", "detectors", "patterns",
                                     "action", "shadow", "applies_to", "endpoint", "api_key_env", "api_key_file", "api_version",
                                     "categories", "blocklists", "shield_prompt", "timeout_ms", "on_error"]

    mutating func compileGuardrails(_ node: Node?) -> GatewayConfig.GuardrailsSettings {
        guard let node, !YAMLReader.isNull(node) else { return .init() }
        guard let m = reader.mapping(node, "guardrails", allowed: ["policies", "default"]) else { return .init() }
        var policies: [GatewayConfig.GuardrailPolicyConfig] = []
        if let items = reader.sequence(m["policies"], "guardrails.policies") {
            var names = Set<String>()
            for (i, item) in items.enumerated() {
                let path = "guardrails.policies[\(i)]"
                guard let pm = reader.mapping(item, path, allowed: ["name", "checks"], required: ["name", "checks"]) else { continue }
                let name = checkedName(pm["name"], "\(path).name", seen: &names, what: "guardrail policy")
                if let name { declaredGuardrailPolicies.append(name) }
                var checks: [GatewayConfig.GuardrailCheckConfig] = []
                var valid = true
                if let list = reader.sequence(pm["checks"], "\(path).checks") {
                    if list.isEmpty { reader.issue("\(path).checks", pm["checks"], "a policy needs at least one check") }
                    var checkNames = Set<String>()
                    for (c, checkNode) in list.enumerated() {
                        if let check = compileGuardrailCheck(checkNode, "\(path).checks[\(c)]", names: &checkNames) {
                            checks.append(check)
                        } else {
                            valid = false
                        }
                    }
                } else {
                    valid = false
                }
                if let name, valid { policies.append(.init(name: name, checks: checks)) }
            }
        }
        let defaults = guardrailReferences(m["default"], "guardrails.default")
        return .init(policies: policies, defaultPolicies: defaults)
    }

    mutating func compileGuardrailCheck(_ node: Node, _ path: String, names: inout Set<String>) -> GatewayConfig.GuardrailCheckConfig? {
        guard let m = reader.mapping(node, path, allowed: Self.guardrailCheckKeys, required: ["type", "action"]) else { return nil }
        let type = enumValue(m["type"], "\(path).type", GatewayConfig.GuardrailCheckConfig.CheckType.self, what: "check type")
        let action = enumValue(m["action"], "\(path).action", GuardrailAction.self, what: "action")
        guard let type else { return nil }
        let name = m["name"] == nil ? type.rawValue : reader.nonEmptyString(m["name"], "\(path).name")
        if let name, !names.insert(name).inserted {
            reader.issue(m["name"] == nil ? path : "\(path).name", m["name"] ?? node,
                         "duplicate check name \"\(name)\" in this policy (give each check of the same type a name:)")
        }
        var check = GatewayConfig.GuardrailCheckConfig(name: name ?? type.rawValue, type: type, action: action ?? .allow)
        var valid = action != nil && name != nil
        check.shadow = bool(m["shadow"], "\(path).shadow") ?? false
        check.appliesTo = enumValue(m["applies_to"], "\(path).applies_to", GuardrailScope.self, what: "applies_to") ?? .prompt
        // Options that belong to another type are mistakes, not silently ignored settings.
        let owned: [GatewayConfig.GuardrailCheckConfig.CheckType: [String]] = [
            .keywords: ["keywords", "keywords_file", "whole_word"], .pii: ["detectors"], .regex: ["patterns"], .injection: [],
            .contentSafety: ["endpoint", "api_key_env", "api_key_file", "api_version", "categories", "blocklists", "shield_prompt",
                             "timeout_ms", "on_error"],
        ]
        for (other, keys) in owned where other != type {
            for key in keys where m[key] != nil {
                reader.issue("\(path).\(key)", m[key], "\(key) only applies to checks of type \(other.rawValue), not \(type.rawValue)")
                valid = false
            }
        }
        switch type {
        case .keywords:
            var words: [String] = []
            if let list = reader.sequence(m["keywords"], "\(path).keywords") {
                for (k, entry) in list.enumerated() {
                    if let word = reader.nonEmptyString(entry, "\(path).keywords[\(k)]") { words.append(word) } else { valid = false }
                }
            }
            if let file = reader.nonEmptyString(m["keywords_file"], "\(path).keywords_file") {
                if let text = try? String(contentsOfFile: file, encoding: .utf8) {
                    for line in text.split(whereSeparator: \.isNewline) {
                        let word = line.trimmingCharacters(in: .whitespaces)
                        if !word.isEmpty, !word.hasPrefix("#") { words.append(word) }
                    }
                } else {
                    reader.issue("\(path).keywords_file", m["keywords_file"], "cannot read \(file) (one keyword or phrase per line, # for comments)")
                    valid = false
                }
            }
            if words.isEmpty, valid {
                reader.issue(path, node, "a keywords check needs keywords: [...] or keywords_file:")
                valid = false
            }
            check.keywords = words
            check.wholeWord = bool(m["whole_word"], "\(path).whole_word") ?? false
        case .pii:
            let known = PIIDetector.allCases.map(\.rawValue)
            if let list = reader.sequence(m["detectors"], "\(path).detectors") {
                for (d, entry) in list.enumerated() {
                    guard let raw = reader.nonEmptyString(entry, "\(path).detectors[\(d)]") else { valid = false; continue }
                    guard let detector = PIIDetector(rawValue: raw) else {
                        let near = YAMLReader.nearest(raw, in: known).map { " (did you mean \"\($0)\"?)" } ?? ""
                        reader.issue("\(path).detectors[\(d)]", entry, "unknown detector \"\(raw)\"\(near); valid: \(known.joined(separator: ", "))")
                        valid = false
                        continue
                    }
                    check.detectors.append(detector)
                }
            }
        case .regex:
            guard let pm = m["patterns"], case .mapping(let mapping) = pm else {
                reader.issue("\(path).patterns", m["patterns"] ?? node, "a regex check needs patterns: {name: regex, ...}")
                return nil
            }
            for (k, v) in mapping {
                guard case .scalar(let key) = k, let regex = reader.nonEmptyString(v, "\(path).patterns.\(key.string)") else { valid = false; continue }
                let rule = key.string
                if !rule.utf8.allSatisfy({ Self.nameByte($0) }) {
                    reader.issue("\(path).patterns.\(rule)", k, "rule names may use letters, digits, '.', '_' and '-' only")
                    valid = false
                }
                do {
                    _ = try CustomRegexRule(name: rule, pattern: regex)
                } catch {
                    reader.issue("\(path).patterns.\(rule)", v, "invalid regular expression: \(error)")
                    valid = false
                }
                check.patterns.append(.init(name: rule, regex: regex))
            }
            if check.patterns.isEmpty, valid {
                reader.issue("\(path).patterns", pm, "a regex check needs at least one pattern")
                valid = false
            }
        case .injection:
            break
        case .contentSafety:
            if action == .redact {
                reader.issue("\(path).action", m["action"], "content_safety checks can allow or block, not redact (the service reports categories, not spans)")
                valid = false
            }
            if check.appliesTo != .prompt {
                reader.issue("\(path).applies_to", m["applies_to"], "content_safety checks run on prompts only")
                valid = false
            }
            if let settings = contentSafetySettings(m, path, node: node) {
                check.contentSafety = settings
            } else {
                valid = false
            }
        }
        return valid ? check : nil
    }

    /// The Azure AI Content Safety options of a `content_safety` check.
    mutating func contentSafetySettings(_ m: [String: Node], _ path: String, node: Node) -> GatewayConfig.ContentSafetySettings? {
        guard let endpoint = reader.nonEmptyString(m["endpoint"], "\(path).endpoint") else {
            if m["endpoint"] == nil { reader.issue("\(path).endpoint", node, "content_safety checks need endpoint (https://<resource>.cognitiveservices.azure.com)") }
            return nil
        }
        var valid = true
        if let problem = Self.baseURLProblem(endpoint) {
            reader.issue("\(path).endpoint", m["endpoint"], problem.replacingOccurrences(of: "base_url", with: "endpoint"))
            valid = false
        }
        var trimmed = endpoint
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        var settings = GatewayConfig.ContentSafetySettings(endpoint: trimmed)
        settings.apiKey = credential(m, path)
        if settings.apiKey == nil, m["api_key_env"] == nil, m["api_key_file"] == nil {
            reader.issue(path, node, "content_safety checks need api_key_env or api_key_file (sent as Ocp-Apim-Subscription-Key)")
            valid = false
        }
        if let version = reader.nonEmptyString(m["api_version"], "\(path).api_version") { settings.apiVersion = version }
        if let categories = m["categories"] {
            if case .mapping(let mapping) = categories {
                var thresholds: [String: Int] = [:]
                let known = ContentSafety.categories.map(\.config)
                for (k, v) in mapping {
                    guard case .scalar(let key) = k else { continue }
                    let name = key.string
                    guard known.contains(name) else {
                        let near = YAMLReader.nearest(name, in: known).map { " (did you mean \"\($0)\"?)" } ?? ""
                        reader.issue("\(path).categories.\(name)", k, "unknown category \"\(name)\"\(near); valid: \(known.joined(separator: ", "))")
                        valid = false
                        continue
                    }
                    guard let severity = reader.int(v, "\(path).categories.\(name)") else { valid = false; continue }
                    guard (0...7).contains(severity) else {
                        reader.issue("\(path).categories.\(name)", v, "severity threshold must be between 0 and 7, got \(severity)")
                        valid = false
                        continue
                    }
                    thresholds[name] = severity
                }
                settings.thresholds = thresholds
            } else {
                reader.issue("\(path).categories", categories, "expected a mapping of category to severity threshold, e.g. {hate: 4, violence: 2}")
                valid = false
            }
        }
        if let list = reader.sequence(m["blocklists"], "\(path).blocklists") {
            settings.blocklists = list.enumerated().compactMap { reader.nonEmptyString($1, "\(path).blocklists[\($0)]") }
        }
        settings.shieldPrompt = bool(m["shield_prompt"], "\(path).shield_prompt") ?? false
        if let timeout = reader.int(m["timeout_ms"], "\(path).timeout_ms") {
            if (1...60_000).contains(timeout) {
                settings.timeoutMs = timeout
            } else {
                reader.issue("\(path).timeout_ms", m["timeout_ms"], "timeout_ms must be between 1 and 60000, got \(timeout)")
                valid = false
            }
        }
        if let onError = enumValue(m["on_error"], "\(path).on_error", GuardrailAction.self, what: "on_error") {
            if onError == .redact {
                reader.issue("\(path).on_error", m["on_error"], "on_error is allow (fail open) or block (fail closed)")
                valid = false
            }
            settings.failClosed = onError == .block
        }
        return valid ? settings : nil
    }

    /// A list of policy names (for `guardrails.default` and the route/key fields).
    mutating func guardrailReferences(_ node: Node?, _ path: String) -> [String] {
        guard let list = reader.sequence(node, path) else { return [] }
        var out: [String] = []
        for (i, entry) in list.enumerated() {
            if let name = reference(entry, "\(path)[\(i)]", in: declaredGuardrailPolicies, what: "guardrail policy"), !out.contains(name) {
                out.append(name)
            }
        }
        return out
    }

    mutating func enumValue<E: RawRepresentable & CaseIterable>(_ node: Node?, _ path: String, _ type: E.Type, what: String) -> E? where E.RawValue == String {
        guard let raw = reader.nonEmptyString(node, path) else { return nil }
        guard let value = E(rawValue: raw) else {
            let valid = E.allCases.map(\.rawValue)
            let near = YAMLReader.nearest(raw, in: valid).map { " (did you mean \"\($0)\"?)" } ?? ""
            reader.issue(path, node, "unknown \(what) \"\(raw)\"\(near); valid: \(valid.joined(separator: ", "))")
            return nil
        }
        return value
    }
}
