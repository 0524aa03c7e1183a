/// A named, user-supplied regular expression (Swift `Regex`), compiled once when the config
/// is compiled.
///
/// Cost: these run Swift's backtracking regex engine over a `String` copy of the text, about
/// 65 MB/s per core on an 8 KB prompt (release build) against 500+ MB/s for a built-in
/// detector, and a pathological pattern can backtrack badly. A pattern that starts with plain
/// literal text (`TCK-[0-9]{6}`) is only tried where that text occurs, which makes it nearly
/// free on prompts without a candidate; alternations and inline options (`(?i)`) turn that
/// off. Keep custom rules few and anchored on literal text; prefer `keywords` for phrase lists.
public struct CustomRegexRule: @unchecked Sendable {
    // @unchecked: `Regex` is immutable once built, but not declared Sendable on every
    // toolchain; it is only ever read after `init`.
    public let name: String
    public let pattern: String
    let regex: Regex<AnyRegexOutput>
    /// Literal bytes every match starts with, when the pattern makes that obvious: the regex
    /// then only runs where they occur (most texts contain no candidate at all).
    let literalPrefix: [UInt8]?

    /// Compiles `pattern`; the thrown error's description says what is wrong with it.
    public init(name: String, pattern: String) throws {
        self.name = name
        self.pattern = pattern
        self.regex = try Regex(pattern)
        self.literalPrefix = Self.literalPrefix(of: pattern)
        self.redactionType = String(name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// The leading plain characters of `pattern` (letters, digits, `-`, `_`, `:`, `=`, space)
    /// that every match must begin with, or nil when unsure: any alternation or inline option
    /// (`(?i)`), or fewer than two such characters. A quantifier after the run makes its last
    /// character optional, so that one is dropped.
    static func literalPrefix(of pattern: String) -> [UInt8]? {
        let bytes = Array(pattern.utf8)
        guard !bytes.contains(UInt8(ascii: "|")), !pattern.contains("(?") else { return nil }
        var run: [UInt8] = []
        for b in bytes {
            guard ByteClass.isAlnum(b) || b == 0x2D || b == 0x5F || b == 0x3A || b == 0x3D || b == 0x20 else { break }
            run.append(b)
        }
        if run.count < bytes.count, [UInt8(ascii: "?"), UInt8(ascii: "*"), UInt8(ascii: "{"), UInt8(ascii: "+")].contains(bytes[run.count]) {
            run.removeLast()
        }
        return run.count >= 2 ? run : nil
    }

    /// Longest match a literal-anchored rule reports (bytes from the literal).
    public static let maxMatchBytes = 4096

    /// Redaction label: the rule's name upper-cased, non-alphanumerics as `_` (computed once:
    /// it is asked for on every scan).
    public let redactionType: String

    /// Byte ranges of every match in the text whose UTF-8 bytes are `text`; `makeString` gives
    /// it as a `String`, asked for only when the regex must run (a literal-anchored rule on a
    /// text without its literal never copies the text).
    func scan(_ makeString: () -> String, bytes text: UnsafeBufferPointer<UInt8>, into out: inout [Range<Int>]) {
        if let literal = literalPrefix {
            // Leftmost, non-overlapping, like `matches(of:)`: each match starts at an
            // occurrence of the literal, so only those positions are tried.
            var cached: String?
            let first = literal[0]
            var i = ByteClass.next(text, 0, byte: first)
            while i + literal.count <= text.count {
                guard text[i] == first, SecretDetectors.matches(text, i, literal) else {
                    i = ByteClass.next(text, i + 1, byte: first)
                    continue
                }
                let string = cached ?? makeString()
                cached = string
                let utf8 = string.utf8
                let start = utf8.index(utf8.startIndex, offsetBy: i)
                // Each attempt sees at most `maxMatchBytes` (cut on a scalar boundary): a
                // pattern like `TCK-.*` must not run to the end of the text from every
                // candidate, which would make many candidates quadratic.
                var limit = min(text.count, i + Self.maxMatchBytes)
                while limit < text.count, limit > i, text[limit] & 0xC0 == 0x80 { limit -= 1 }
                let end = utf8.index(utf8.startIndex, offsetBy: limit)
                if let match = string[start..<end].prefixMatch(of: regex), !match.range.isEmpty {
                    let upper = utf8.distance(from: utf8.startIndex, to: match.range.upperBound)
                    out.append(i..<upper)
                    i = upper
                } else {
                    i += 1
                }
            }
            return
        }
        let string = makeString()
        let utf8 = string.utf8
        for match in string.matches(of: regex) where !match.range.isEmpty {
            let lower = utf8.distance(from: utf8.startIndex, to: match.range.lowerBound)
            let upper = utf8.distance(from: utf8.startIndex, to: match.range.upperBound)
            out.append(lower..<upper)
        }
    }
}
