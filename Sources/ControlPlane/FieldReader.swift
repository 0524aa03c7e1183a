import ControlPlaneStore
import Foundation

/// Reads a JSON request body field by field, collecting every problem with its path (all of
/// them at once, like the YAML loader), so one 422 tells the client everything to fix.
struct FieldReader {
    let object: [String: JSONValue]
    var issues: [APIError.Issue] = []

    init(_ value: JSONValue, allowed: Set<String>) throws(APIError) {
        guard case .object(let o) = value else { throw .badRequest("the request body must be a JSON object") }
        object = o
        for key in o.keys.sorted() where !allowed.contains(key) {
            issues.append(.init(path: key, message: "unknown field; allowed: \(allowed.sorted().joined(separator: ", "))"))
        }
    }

    mutating func issue(_ path: String, _ message: String) { issues.append(.init(path: path, message: message)) }

    func has(_ key: String) -> Bool { object[key] != nil && object[key] != .null }

    mutating func string(_ key: String, required: Bool = false, maxLength: Int = 1024) -> String? {
        guard let value = object[key], value != .null else {
            if required { issue(key, "is required") }
            return nil
        }
        guard case .string(let s) = value else { issue(key, "must be a string"); return nil }
        if s.isEmpty { issue(key, "must not be empty"); return nil }
        if s.utf8.count > maxLength { issue(key, "must be at most \(maxLength) bytes"); return nil }
        return s
    }

    /// Names of resources: what the gateway config accepts as names and model ids.
    mutating func name(_ key: String = "name") -> String? {
        guard let s = string(key, required: true, maxLength: 128) else { return nil }
        guard Self.isName(s) else {
            issue(key, "may contain only letters, digits and . _ - : / @ + = (got \"\(s.prefix(40))\")")
            return nil
        }
        return s
    }

    static func isName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 128 && s.unicodeScalars.allSatisfy {
            ($0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-:/@+=".unicodeScalars.contains($0)))
        }
    }

    mutating func oneOf(_ key: String, _ allowed: [String], required: Bool = false) -> String? {
        guard let s = string(key, required: required, maxLength: 64) else { return nil }
        guard allowed.contains(s) else { issue(key, "must be one of \(allowed.joined(separator: ", ")), got \"\(s.prefix(40))\""); return nil }
        return s
    }

    mutating func bool(_ key: String) -> Bool? {
        guard let value = object[key], value != .null else { return nil }
        guard case .bool(let b) = value else { issue(key, "must be true or false"); return nil }
        return b
    }

    mutating func int(_ key: String, in range: ClosedRange<Int64>) -> Int64? {
        guard let value = object[key], value != .null else { return nil }
        guard let i = value.intValue else { issue(key, "must be an integer"); return nil }
        guard range.contains(i) else { issue(key, "must be between \(range.lowerBound) and \(range.upperBound), got \(i)"); return nil }
        return i
    }

    mutating func names(_ key: String, maxCount: Int = 1000) -> [String]? {
        guard let value = object[key], value != .null else { return nil }
        guard case .array(let items) = value else { issue(key, "must be an array of names"); return nil }
        if items.count > maxCount { issue(key, "at most \(maxCount) entries"); return nil }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item, s == "*" || Self.isName(s) else { issue("\(key)[\(i)]", "must be a name"); continue }
            out.append(s)
        }
        return out
    }

    /// An object passed to the gateway config as is (limits, checks…): the config compiler
    /// validates its contents when the org's config is compiled.
    mutating func object(_ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        guard case .object = value else { issue(key, "must be an object"); return nil }
        return value
    }

    mutating func array(_ key: String, required: Bool = false, maxCount: Int = 1000) -> [JSONValue]? {
        guard let value = object[key], value != .null else {
            if required { issue(key, "is required") }
            return nil
        }
        guard case .array(let items) = value else { issue(key, "must be an array"); return nil }
        if items.count > maxCount { issue(key, "at most \(maxCount) entries"); return nil }
        return items
    }

    mutating func stringMap(_ key: String) -> [String: String]? {
        guard let value = object[key], value != .null else { return nil }
        guard case .object(let o) = value else { issue(key, "must be an object of strings"); return nil }
        var out: [String: String] = [:]
        for (k, v) in o {
            guard case .string(let s) = v else { issue("\(key).\(k)", "must be a string"); continue }
            out[k] = s
        }
        return out
    }

    func finish() throws(APIError) {
        if !issues.isEmpty { throw .validation(issues) }
    }
}
