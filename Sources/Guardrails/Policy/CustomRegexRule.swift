/// A named, user-supplied regular expression (Swift `Regex`), compiled once when the config
/// is compiled.
///
/// Cost: unlike the built-in detectors these run Swift's backtracking regex engine over a
/// `String` copy of the text, roughly 10–100× slower per byte than the byte scanners, and
/// a pathological pattern can backtrack badly. Keep custom rules few and anchored on literal
/// text; prefer `keywords` for plain phrase lists.
public struct CustomRegexRule: @unchecked Sendable {
    // @unchecked: `Regex` is immutable once built, but not declared Sendable on every
    // toolchain; it is only ever read after `init`.
    public let name: String
    public let pattern: String
    let regex: Regex<AnyRegexOutput>

    /// Compiles `pattern`; the thrown error's description says what is wrong with it.
    public init(name: String, pattern: String) throws {
        self.name = name
        self.pattern = pattern
        self.regex = try Regex(pattern)
    }

    /// Redaction label: the rule's name upper-cased, non-alphanumerics as `_`.
    public var redactionType: String {
        String(name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// Byte ranges of every match in `string` (whose UTF-8 bytes are the scanned text).
    func scan(_ string: String, into out: inout [Range<Int>]) {
        let utf8 = string.utf8
        for match in string.matches(of: regex) where !match.range.isEmpty {
            let lower = utf8.distance(from: utf8.startIndex, to: match.range.lowerBound)
            let upper = utf8.distance(from: utf8.startIndex, to: match.range.upperBound)
            out.append(lower..<upper)
        }
    }
}
