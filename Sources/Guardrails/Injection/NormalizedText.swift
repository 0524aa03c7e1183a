/// Text folded into a canonical form for signature matching, with a map back to the original
/// bytes so a match can be reported (and redacted) where the user wrote it.
///
/// The fold defeats the usual evasions: ASCII case; zero-width characters (U+200B–U+200D,
/// U+2060, U+FEFF, soft hyphen) vanish; Cyrillic/Greek look-alikes and fullwidth ASCII become
/// ASCII; simple leetspeak digits and symbols become letters (`0→o 1→i 3→e 4→a 5→s 7→t @→a
/// $→s`, and `l→i` so that `1` can stand for either); whitespace and punctuation are dropped
/// altogether, so `i.g.n.o.r.e`, `ignore   previous` and `ignore-previous` all read
/// `ignoreprevious`. Because dropping separators would let `dan` match inside `dangerous`,
/// `gapBefore` remembers where the original had a separator, and matches must start and end
/// on one.
public struct NormalizedText: Sendable {
    /// The folded characters (lower-case ASCII letters and digits, plus the raw UTF-8 bytes
    /// of any other scalar).
    public private(set) var bytes: [UInt8] = []
    /// Original byte offset where the scalar behind `bytes[k]` starts, and where it ends.
    public private(set) var originStart: [Int32] = []
    public private(set) var originEnd: [Int32] = []
    /// `gapBefore[k]`: a separator (or the start of the text) precedes `bytes[k]`;
    /// `gapBefore[bytes.count]` is always true (the end of the text).
    public private(set) var gapBefore: [Bool] = []

    public init(_ text: UnsafeBufferPointer<UInt8>) {
        bytes.reserveCapacity(text.count)
        originStart.reserveCapacity(text.count)
        originEnd.reserveCapacity(text.count)
        gapBefore.reserveCapacity(text.count + 1)
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
            let (scalar, length) = Self.decode(text, i)
            let end = i + length
            if Self.isInvisible(scalar) {
                i = end
                continue
            }
            if Self.isSpace(scalar) {
                gap = true
            } else if scalar >= 0xFF01 && scalar <= 0xFF5E {
                gap = fold(ascii: UInt8(scalar - 0xFEE0), from: i, to: end, gap: gap)
            } else if let ascii = Homoglyphs.table[scalar] {
                gap = fold(ascii: ascii, from: i, to: end, gap: gap)
            } else {
                for k in i..<end { append(text[k], from: i, to: end, gap: gap && k == i) }
                gap = false
            }
            i = end
        }
        gapBefore.append(true)
    }

    public init(_ string: String) {
        var s = string
        self = s.withUTF8 { NormalizedText($0) }
    }

    /// The original byte range behind the folded range `range`.
    public func originalRange(_ range: Range<Int>) -> Range<Int> {
        Int(originStart[range.lowerBound])..<Int(originEnd[range.upperBound - 1])
    }

    /// Whether `range` starts and ends on a separator of the original text.
    public func isWordAligned(_ range: Range<Int>) -> Bool {
        gapBefore[range.lowerBound] && gapBefore[range.upperBound]
    }

    /// Folds one ASCII character; returns the new `gap` state.
    private mutating func fold(ascii c: UInt8, from: Int, to: Int, gap: Bool) -> Bool {
        guard let folded = Self.asciiFold[Int(c)] else { return true }
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

    /// ASCII → folded character, nil for separators (whitespace, punctuation, controls).
    static let asciiFold: [UInt8?] = {
        var t = [UInt8?](repeating: nil, count: 128)
        for c in UInt8(ascii: "a")...UInt8(ascii: "z") { t[Int(c)] = c }
        for c in UInt8(ascii: "A")...UInt8(ascii: "Z") { t[Int(c)] = c | 0x20 }
        for c in UInt8(ascii: "0")...UInt8(ascii: "9") { t[Int(c)] = c }
        let leet: [(Character, Character)] = [("0", "o"), ("1", "i"), ("3", "e"), ("4", "a"), ("5", "s"), ("7", "t"),
                                              ("@", "a"), ("$", "s"), ("l", "i"), ("L", "i")]
        for (from, to) in leet { t[Int(from.asciiValue!)] = to.asciiValue! }
        return t
    }()

    static func isInvisible(_ s: UInt32) -> Bool {
        s == 0x200B || s == 0x200C || s == 0x200D || s == 0x2060 || s == 0xFEFF || s == 0x00AD
    }

    static func isSpace(_ s: UInt32) -> Bool {
        s == 0x00A0 || (s >= 0x2000 && s <= 0x200A) || s == 0x202F || s == 0x205F || s == 0x3000 || s == 0x2028 || s == 0x2029
            || (s >= 0x2010 && s <= 0x2027) || (s >= 0x3001 && s <= 0x3003)
    }

    /// Decodes one scalar; invalid sequences yield U+FFFD over one byte.
    static func decode(_ text: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
        let lead = text[i]
        let length: Int
        var scalar: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; scalar = UInt32(lead & 0x1F)
        case 0xE0...0xEF: length = 3; scalar = UInt32(lead & 0x0F)
        case 0xF0...0xF4: length = 4; scalar = UInt32(lead & 0x07)
        default: return (0xFFFD, 1)
        }
        guard i + length <= text.count else { return (0xFFFD, 1) }
        for k in 1..<length {
            let c = text[i + k]
            guard c & 0xC0 == 0x80 else { return (0xFFFD, 1) }
            scalar = scalar << 6 | UInt32(c & 0x3F)
        }
        return (scalar, length)
    }
}
