/// One problem in a config file, located by its path (`routes[2].priorities[0]…`) and line.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var line: Int?

    public init(path: String, message: String, line: Int? = nil) {
        self.path = path
        self.message = message
        self.line = line
    }

    public var description: String {
        path.isEmpty ? message : "\(path): \(message)"
    }
}

/// Every problem found in one config source. A config with any issue is never used.
public struct ConfigLoadError: Error, Sendable, CustomStringConvertible {
    public var source: String
    public var issues: [ConfigIssue]

    public init(source: String, issues: [ConfigIssue]) {
        self.source = source
        self.issues = issues
    }

    public var description: String {
        issues.map { issue in
            let location = issue.line.map { "\(source):\($0)" } ?? source
            return "\(location): \(issue)"
        }.joined(separator: "\n")
    }
}
