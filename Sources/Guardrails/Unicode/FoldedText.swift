/// A text as the keyword matcher reads it: ASCII unchanged (the matcher ignores ASCII case),
/// every non-ASCII scalar folded (`UnicodeFold`: NFKC, accents, math alphanumerics, fullwidth,
/// look-alikes) or kept as its bytes, invisible characters (Default_Ignorable_Code_Point, tag
/// characters) and combining marks removed; with a map back to the original bytes.
///
/// Unlike `NormalizedText` (injection signatures) it keeps separators and does no leetspeak,
/// so whole-word blocklists mean what they say. Callers skip it entirely for ASCII text.
struct FoldedText {
    private(set) var bytes: [UInt8] = []
    /// Original start of the scalar behind `bytes[k]`, and the original end (extended over
    /// invisible characters and marks that follow it).
    private(set) var originStart: [Int32] = []
    private(set) var originEnd: [Int32] = []

    init(_ text: UnsafeBufferPointer<UInt8>) {
        let n = text.count
        bytes.reserveCapacity(n)
        originStart.reserveCapacity(n)
        originEnd.reserveCapacity(n)
        var i = 0
        while i < n {
            let lead = text[i]
            if lead < 0x80 {
                append(lead, i, i + 1)
                i += 1
                continue
            }
            let (s, length) = UTF8Scalar.decode(text, i)
            let end = i + length
            let e = UnicodeFold.entry(s)
            if UTF8Scalar.isDefaultIgnorable(s) || UnicodeFold.isMark(e) {
                // Gone, but a redaction of the letter before it takes it along.
                if let last = originEnd.last, Int(last) == i { originEnd[originEnd.count - 1] = Int32(truncatingIfNeeded: end) }
            } else if e != 0 {
                for k in 0..<UnicodeFold.count(e) { append(UnicodeFold.byte(e, k), i, end) }
            } else {
                for k in i..<end { append(text[k], i, end) }
            }
            i = end
        }
    }

    @inline(__always)
    private mutating func append(_ b: UInt8, _ from: Int, _ to: Int) {
        bytes.append(b)
        originStart.append(Int32(truncatingIfNeeded: from))
        originEnd.append(Int32(truncatingIfNeeded: to))
    }

    /// The original byte range behind the folded range `range` (non-empty).
    func originalRange(_ range: Range<Int>) -> Range<Int> {
        Int(originStart[range.lowerBound])..<Int(originEnd[range.upperBound - 1])
    }

    /// `pattern` folded the same way (for building a matcher).
    static func fold(_ pattern: [UInt8]) -> [UInt8] {
        guard pattern.contains(where: { $0 >= 0x80 }) else { return pattern }
        return pattern.withUnsafeBufferPointer { FoldedText($0).bytes }
    }
}
