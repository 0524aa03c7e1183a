import Foundation
import Yams

/// Reads a Yams node tree while collecting issues with paths and lines, so a config with ten
/// mistakes reports ten errors in one run. Accessors return nil after recording an issue;
/// callers simply skip what they could not read.
struct YAMLReader {
    private(set) var issues: [ConfigIssue] = []

    mutating func issue(_ path: String, _ node: Node?, _ message: String) {
        issues.append(ConfigIssue(path: path, message: message, line: node?.mark?.line))
    }

    /// An issue another reader of the same file found.
    mutating func append(_ issue: ConfigIssue) {
        issues.append(issue)
    }

    /// A mapping with only `allowed` keys; unknown keys get a did-you-mean hint, missing
    /// `required` keys are reported at `path`.
    mutating func mapping(_ node: Node?, _ path: String, allowed: [String], required: [String] = []) -> [String: Node]? {
        guard let node else { return nil }
        guard case .mapping(let mapping) = node else {
            issue(path, node, "expected a mapping, got \(Self.describe(node))")
            return nil
        }
        var out: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let key) = keyNode else {
                issue(path, keyNode, "keys must be strings")
                continue
            }
            let name = key.string
            let child = path.isEmpty ? name : "\(path).\(name)"
            guard allowed.contains(name) else {
                if let near = Self.nearest(name, in: allowed) {
                    issue(child, keyNode, "unknown key (did you mean \"\(near)\"?)")
                } else {
                    issue(child, keyNode, "unknown key; valid keys here: \(allowed.joined(separator: ", "))")
                }
                continue
            }
            if out[name] != nil {
                issue(child, keyNode, "duplicate key")
            }
            out[name] = value
        }
        for key in required where out[key] == nil || Self.isNull(out[key]!) {
            issue(path.isEmpty ? key : "\(path).\(key)", node, "required key is missing")
        }
        return out
    }

    mutating func sequence(_ node: Node?, _ path: String) -> [Node]? {
        guard let node, !Self.isNull(node) else { return nil }
        guard case .sequence(let seq) = node else {
            issue(path, node, "expected a list, got \(Self.describe(node))")
            return nil
        }
        return Array(seq)
    }

    mutating func string(_ node: Node?, _ path: String) -> String? {
        guard let node, !Self.isNull(node) else { return nil }
        guard case .scalar(let s) = node else {
            issue(path, node, "expected a string, got \(Self.describe(node))")
            return nil
        }
        return s.string
    }

    mutating func nonEmptyString(_ node: Node?, _ path: String) -> String? {
        guard let s = string(node, path) else { return nil }
        guard !s.trimmingCharacters(in: .whitespaces).isEmpty else {
            issue(path, node, "must not be empty")
            return nil
        }
        return s
    }

    mutating func int(_ node: Node?, _ path: String) -> Int? {
        guard let node, !Self.isNull(node) else { return nil }
        guard case .scalar(let s) = node, s.style == .plain || s.style == .any, let v = Int(s.string.replacingOccurrences(of: "_", with: "")) else {
            issue(path, node, "expected an integer, got \(Self.describe(node))")
            return nil
        }
        return v
    }

    mutating func stringMap(_ node: Node?, _ path: String) -> [String: String]? {
        guard let node, !Self.isNull(node) else { return nil }
        guard case .mapping(let mapping) = node else {
            issue(path, node, "expected a mapping, got \(Self.describe(node))")
            return nil
        }
        var out: [String: String] = [:]
        for (k, v) in mapping {
            guard case .scalar(let key) = k else {
                issue(path, k, "keys must be strings")
                continue
            }
            if let value = string(v, "\(path).\(key.string)") {
                out[key.string] = value
            }
        }
        return out
    }

    static func isNull(_ node: Node) -> Bool {
        if case .scalar(let s) = node, s.style == .plain || s.style == .any {
            return s.string == "~" || s.string == "null" || s.string.isEmpty
        }
        return false
    }

    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let s):
            if s.style == .plain || s.style == .any { return "\"\(s.string)\"" }
            return "the string \"\(s.string)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    /// The candidate closest to `word` by edit distance, when it is close enough to be a typo.
    static func nearest(_ word: String, in candidates: [String]) -> String? {
        var best: (String, Int)?
        for c in candidates {
            let d = editDistance(word.lowercased(), c.lowercased())
            if d <= max(1, min(3, c.count / 3)), best.map({ d < $0.1 }) ?? true {
                best = (c, d)
            }
        }
        return best?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }
}
