/// Per-inspection sink for ModSecurity's log callback (passed as the transaction's
/// `logCbData`). Lives only for one `inspect` call, on that call's thread.
final class WAFLogCollector {
    let parser: WAFLogParser
    private(set) var matches: [WAFRuleMatch] = []

    init(parser: WAFLogParser) {
        self.parser = parser
    }

    func record(_ line: String) {
        guard let match = parser.parse(line), !matches.contains(where: { $0.id == match.id }) else { return }
        matches.append(match)
    }
}
