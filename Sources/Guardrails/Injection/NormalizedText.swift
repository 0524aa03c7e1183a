/// Text folded into a canonical form for signature matching, with a map back to the original
/// bytes so a match can be reported (and redacted) where the user wrote it.
///
/// The fold defeats the usual evasions: ASCII case; every Default_Ignorable_Code_Point
/// (zero-width characters, joiners, bidi controls, variation selectors, soft hyphen) and the
/// tag characters U+E0000–E007F vanish, and so do combining marks (`e` + U+0301 reads `e`);
/// non-ASCII letters fold through `UnicodeFold` (NFKC, precomposed accents, mathematical
/// alphanumerics U+1D400–1D7FF, fullwidth, enclosed letters, Cyrillic/Greek look-alikes); simple
/// leetspeak digits and symbols become letters (`0→o 1→i 3→e 4→a 5→s 7→t @→a $→s`, and `l→i` so
/// that `1` can stand for either); whitespace and punctuation are dropped altogether, so
/// `i.g.n.o.r.e`, `ignore   previous` and `ignore-previous` all read `ignoreprevious`. Because
/// dropping separators would let `dan` match inside `dangerous`, `gapBefore` remembers where the
/// original had a separator, and matches must start and end on one.
///
/// `init(tagPayloadOf:)` reads the other way round: only the tag characters, as the ASCII they
/// encode (the "ASCII smuggling" channel some models read), everything else a separator.
///
/// ASCII text costs one table lookup per byte and nothing else.
public struct NormalizedText: Sendable {
    /// The folded characters (lower-case ASCII letters and digits, plus the raw UTF-8 bytes
    /// of any other scalar).
    public private(set) var bytes: [UInt8] = []
    /// Original byte offset where the scalar behind `bytes[k]` starts, and where it ends
    /// (extended over the invisible characters and marks right after it).
    public private(set) var originStart: [Int32] = []
    public private(set) var originEnd: [Int32] = []
    /// `gapBefore[k]`: a separator (or the start of the text) precedes `bytes[k]`;
    /// `gapBefore[bytes.count]` is always true (the end of the text).
    public private(set) var gapBefore: [Bool] = []
    /// Whether the text contains tag characters (then their payload deserves a look too).
    public private(set) var hasTagCharacters = false

    public init(_ text: UnsafeBufferPointer<UInt8>) {
        if UnicodeFold.isASCII(text) {
            self.init(ascii: text)
        } else {
            self.init(unicode: text)
        }
    }

    private init(unicode text: UnsafeBufferPointer<UInt8>) {
        reserve(text.count)
        var gap = true
        var i = 0
        let n = text.count
        while i < n {
            let lead = text[i]
            if lead < 0x80 {
                gap = fold(ascii: lead, from: i, to: i + 1, gap: gap)
                i += 1
                continue
            }
            let (scalar, length) = UTF8Scalar.decode(text, i)
            let end = i + length
            let entry = UnicodeFold.entry(scalar)
            if UTF8Scalar.isDefaultIgnorable(scalar) || UnicodeFold.isMark(entry) {
                if scalar >= 0xE0000 && scalar <= 0xE007F { hasTagCharacters = true }
                extendLast(from: i, to: end)
            } else if Self.isSpace(scalar) {
                gap = true
            } else if scalar >= 0xFF01 && scalar <= 0xFF5E {
                gap = fold(ascii: UInt8(scalar - 0xFEE0), from: i, to: end, gap: gap)
            } else if entry != 0 {
                for k in 0..<UnicodeFold.count(entry) { gap = fold(ascii: UnicodeFold.byte(entry, k), from: i, to: end, gap: gap) }
            } else {
                for k in i..<end { append(text[k], from: i, to: end, gap: gap && k == i) }
                gap = false
            }
            i = end
        }
        gapBefore.append(true)
    }

    /// The common case, all ASCII: one pass over preallocated buffers, one table load per
    /// byte (no per-append uniqueness checks, no scalar decoding).
    private init(ascii text: UnsafeBufferPointer<UInt8>) {
        let n = text.count
        var b = [UInt8](repeating: 0, count: n)
        var s = [Int32](repeating: 0, count: n)
        var g = [Bool](repeating: true, count: n + 1)
        var k = 0
        Self.asciiFold.withUnsafeBufferPointer { table in
            b.withUnsafeMutableBufferPointer { b in
                s.withUnsafeMutableBufferPointer { s in
                    g.withUnsafeMutableBufferPointer { g in
                        var gap = true
                        for i in 0..<n {
                            let folded = table[Int(text[i] & 0x7F)]
                            if folded == 0 {
                                gap = true
                                continue
                            }
                            b[k] = folded
                            s[k] = Int32(truncatingIfNeeded: i)
                            g[k] = gap
                            gap = false
                            k += 1
                        }
                        g[k] = true
                    }
                }
            }
        }
        b.removeLast(n - k)
        s.removeLast(n - k)
        g.removeLast(n - k)
        bytes = b
        originStart = s
        originEnd = s.map { $0 &+ 1 }
        gapBefore = g
    }

    /// The ASCII smuggled in tag characters (U+E0020–E007E encode ASCII 0x20–0x7E), folded as
    /// above; any other scalar is a separator.
    public init(tagPayloadOf text: UnsafeBufferPointer<UInt8>) {
        var gap = true
        var i = 0
        let n = text.count
        while i < n {
            let (scalar, length) = UTF8Scalar.decode(text, i)
            let end = i + length
            if scalar >= 0xE0020 && scalar <= 0xE007E {
                gap = fold(ascii: UInt8(scalar - 0xE0000), from: i, to: end, gap: gap)
            } else {
                gap = true
            }
            i = end
        }
        gapBefore.append(true)
    }

    public init(_ string: String) {
        var s = string
        self = s.withUTF8 { NormalizedText($0) }
    }

    private mutating func reserve(_ n: Int) {
        bytes.reserveCapacity(n)
        originStart.reserveCapacity(n)
        originEnd.reserveCapacity(n)
        gapBefore.reserveCapacity(n + 1)
    }

    /// The original byte range behind the folded range `range`.
    public func originalRange(_ range: Range<Int>) -> Range<Int> {
        Int(originStart[range.lowerBound])..<Int(originEnd[range.upperBound - 1])
    }

    /// Whether `range` starts and ends on a separator of the original text.
    public func isWordAligned(_ range: Range<Int>) -> Bool {
        gapBefore[range.lowerBound] && gapBefore[range.upperBound]
    }

    /// An invisible scalar at `from..<to`: nothing to match, but a match ending on the
    /// character before it covers it (redaction then leaves no orphan behind).
    @inline(__always)
    private mutating func extendLast(from: Int, to: Int) {
        if let last = originEnd.last, Int(last) == from { originEnd[originEnd.count - 1] = Int32(truncatingIfNeeded: to) }
    }

    /// Folds one ASCII character; returns the new `gap` state.
    @inline(__always)
    private mutating func fold(ascii c: UInt8, from: Int, to: Int, gap: Bool) -> Bool {
        let folded = Self.asciiFold[Int(c & 0x7F)]
        guard folded != 0 else { return true }
        append(folded, from: from, to: to, gap: gap)
        return false
    }

    @inline(__always)
    private mutating func append(_ b: UInt8, from: Int, to: Int, gap: Bool) {
        bytes.append(b)
        originStart.append(Int32(truncatingIfNeeded: from))
        originEnd.append(Int32(truncatingIfNeeded: to))
        gapBefore.append(gap)
    }

    /// ASCII → folded character, 0 for separators (whitespace, punctuation, controls).
    static let asciiFold: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 128)
        for c in UInt8(ascii: "a")...UInt8(ascii: "z") { t[Int(c)] = c }
        for c in UInt8(ascii: "A")...UInt8(ascii: "Z") { t[Int(c)] = c | 0x20 }
        for c in UInt8(ascii: "0")...UInt8(ascii: "9") { t[Int(c)] = c }
        let leet: [(Character, Character)] = [("0", "o"), ("1", "i"), ("3", "e"), ("4", "a"), ("5", "s"), ("7", "t"),
                                              ("@", "a"), ("$", "s"), ("l", "i"), ("L", "i")]
        for (from, to) in leet { t[Int(from.asciiValue!)] = to.asciiValue! }
        return t
    }()

    static func isSpace(_ s: UInt32) -> Bool {
        UTF8Scalar.isHorizontalSpace(s) || s == 0x2028 || s == 0x2029 || s == 0x85
            || (s >= 0x2010 && s <= 0x2027) || (s >= 0x3001 && s <= 0x3003)
    }
}
