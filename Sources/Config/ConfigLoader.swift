import Foundation
import Yams

/// Turns a YAML config into a validated `GatewayConfig`, or into a `ConfigLoadError` listing
/// every problem with its path, line and a hint. Nothing partially valid ever comes out.
public enum ConfigLoader {
    public static let supportedVersion = 1

    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigLoadError) -> GatewayConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigLoadError(source: path, issues: [ConfigIssue(path: "", message: "cannot read the file: \(error.localizedDescription)")])
        }
        return try load(yaml: text, source: path, environment: environment)
    }

    public static func load(yaml: String, source: String, environment: [String: String]) throws(ConfigLoadError) -> GatewayConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigLoadError(source: source, issues: [Self.issue(from: error)])
        } catch {
            throw ConfigLoadError(source: source, issues: [ConfigIssue(path: "", message: "YAML error: \(error)")])
        }
        guard let root else {
            throw ConfigLoadError(source: source, issues: [ConfigIssue(path: "", message: "the file is empty")])
        }
        var compiler = ConfigCompiler(environment: environment)
        let config = compiler.compile(root)
        guard compiler.reader.issues.isEmpty, let config else {
            throw ConfigLoadError(source: source, issues: compiler.reader.issues)
        }
        return config
    }

    private static func issue(from error: YamlError) -> ConfigIssue {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ConfigIssue(path: "", message: "YAML syntax error: \(problem) (line \(mark.line), column \(mark.column))", line: mark.line)
        default:
            return ConfigIssue(path: "", message: "YAML error: \(error)")
        }
    }
}
