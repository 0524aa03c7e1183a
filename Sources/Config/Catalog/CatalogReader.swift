import Foundation
import Yams

/// Reads catalog files (`models: {name: {input, output, cached_input, context_window,
/// max_output_tokens, capabilities}}`), the built-in one and a config's `catalog_file:`,
/// with the same path + line issues as the config itself.
struct CatalogReader {
    var reader = YAMLReader()

    static let entryKeys = ["input", "output", "cached_input", "context_window", "max_output_tokens", "capabilities"]

    /// Parses catalog YAML text; issues (syntax included) are in `reader.issues`.
    mutating func read(yaml: String) -> [String: GatewayConfig.ModelInfo] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            reader.issue("", nil, "YAML syntax error: \(error)")
            return [:]
        }
        guard let root, let top = reader.mapping(root, "", allowed: ["models"], required: ["models"]) else { return [:] }
        return entries(top["models"], "models")
    }

    mutating func entries(_ node: Node?, _ path: String) -> [String: GatewayConfig.ModelInfo] {
        guard let node, !YAMLReader.isNull(node) else { return [:] }
        guard case .mapping(let mapping) = node else {
            reader.issue(path, node, "expected a mapping of upstream model names to catalog entries")
            return [:]
        }
        var out: [String: GatewayConfig.ModelInfo] = [:]
        for (k, v) in mapping {
            guard case .scalar(let key) = k else { continue }
            let entryPath = "\(path).\(key.string)"
            guard let m = reader.mapping(v, entryPath, allowed: Self.entryKeys) else { continue }
            var info = GatewayConfig.ModelInfo()
            let input = price(m["input"], "\(entryPath).input")
            let output = price(m["output"], "\(entryPath).output")
            let cached = price(m["cached_input"], "\(entryPath).cached_input")
            if input != nil || output != nil {
                if input == nil || output == nil {
                    reader.issue(entryPath, v, "give both input and output prices (or neither)")
                } else {
                    info.price = .init(inputPerMillion: input!, outputPerMillion: output!, cachedInputPerMillion: cached)
                }
            } else if cached != nil {
                reader.issue("\(entryPath).cached_input", m["cached_input"], "a cached_input price needs input and output prices")
            }
            info.contextWindow = positive(m["context_window"], "\(entryPath).context_window")
            info.maxOutputTokens = positive(m["max_output_tokens"], "\(entryPath).max_output_tokens")
            if let window = info.contextWindow, let output = info.maxOutputTokens, output > window {
                reader.issue("\(entryPath).max_output_tokens", m["max_output_tokens"], "is larger than context_window (\(window))")
            }
            for (i, item) in (reader.sequence(m["capabilities"], "\(entryPath).capabilities") ?? []).enumerated() {
                guard let name = reader.string(item, "\(entryPath).capabilities[\(i)]") else { continue }
                guard let capability = GatewayConfig.Capability(rawValue: name) else {
                    let all = GatewayConfig.Capability.allCases.map(\.rawValue)
                    let near = YAMLReader.nearest(name, in: all).map { " (did you mean \"\($0)\"?)" } ?? ""
                    reader.issue("\(entryPath).capabilities[\(i)]", item, "unknown capability \"\(name)\"\(near); known: \(all.joined(separator: ", "))")
                    continue
                }
                info.capabilities.insert(capability)
            }
            out[key.string] = info
        }
        return out
    }

    mutating func price(_ node: Node?, _ path: String) -> Double? {
        guard let text = reader.string(node, path) else { return nil }
        guard let v = Double(text), v.isFinite, v >= 0 else {
            reader.issue(path, node, "expected a price in USD per million tokens (a number ≥ 0), got \"\(text)\"")
            return nil
        }
        return v
    }

    mutating func positive(_ node: Node?, _ path: String) -> Int? {
        guard let n = reader.int(node, path) else { return nil }
        guard n > 0 else {
            reader.issue(path, node, "expected a positive number of tokens, got \(n)")
            return nil
        }
        return n
    }
}
