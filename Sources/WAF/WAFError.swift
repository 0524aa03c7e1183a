/// Why a WAF engine could not be built. Messages name the file or directive ModSecurity
/// rejected, so an operator can fix the config or the rules file.
public enum WAFError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The configured directory has no OWASP CRS.
    case rulesNotFound(directory: String)
    /// ModSecurity refused a rules file or generated rule text.
    case rules(source: String, message: String)
    /// `msc_init`, `msc_create_rules_set` or `msc_new_transaction` returned nothing.
    case engine(String)

    public var description: String {
        switch self {
        case .rulesNotFound(let dir): return "no OWASP CRS in \(dir) (expected rules/REQUEST-949-BLOCKING-EVALUATION.conf)"
        case .rules(let source, let message): return "ModSecurity rejected \(source): \(message)"
        case .engine(let what): return "ModSecurity: \(what)"
        }
    }
}
