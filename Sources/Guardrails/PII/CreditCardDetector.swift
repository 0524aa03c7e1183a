/// Payment card numbers: 12–19 digits with a known brand prefix/length and a valid Luhn
/// checksum, written as one block or as digit groups joined by one separator used consistently
/// (space, tab, NBSP and the other Unicode spaces, `-` and the Unicode dashes, `.`, `_`, `/`,
/// middle dot). Digits may be ASCII or fullwidth; invisible characters (zero-width, tags,
/// other Default_Ignorable code points) between digits or around a separator are ignored.
///
/// One pass, bounded memory: the digit groups of a run go through a small window (a card
/// spans at most 19 digits, so a start is decided once 19 digits past it are known), so a run
/// of a million spaced digits costs what a million plain bytes do.
///
/// Precision rules: a card never starts or ends inside a longer number (a `.`/`/`-joined
/// neighbour group, a letter or digit next to it); `.` and `/` only join 3–6 digit groups
/// (so decimals and dates are not numbers here); a group longer than 19 digits is no card.
enum CreditCardDetector {
    static let maxDigits = 19
    /// Invisible scalars tolerated in one gap (between two digits or around a separator).
    static let maxInvisiblePerGap = 4
    /// Longest byte span of one match: 19 four-byte-wide digits, 18 three-byte separators and
    /// a full invisible allowance (4 × 4 bytes) on both sides of every separator and digit.
    static let maxMatchBytes = maxDigits * 3 + (maxDigits - 1) * 3 + 2 * maxDigits * maxInvisiblePerGap * 4

    /// A digit group of the current run.
    struct Group {
        var byteStart: Int
        var byteEnd: Int
        /// Digits in the group (may exceed 19; only the first 19 are stored).
        var count: Int
        /// Offset of the group's digits in `Scanner.digits`.
        var digitStart: Int
        /// The separator scalar before this group (0 for the first of a run).
        var separatorBefore: UInt32
        /// Whether a card may start at this group (left boundary of the run's first group).
        var mayStart: Bool
    }

    /// Whether the separator only joins 3–6 digit groups and stops a card next to it.
    @inline(__always)
    static func isNumericPunctuation(_ s: UInt32) -> Bool {
        s == 0x2E || s == 0x2F || s == 0xFF0E || s == 0xFF0F
    }

    /// The separator class of scalar `s`, or nil when `s` does not join digit groups.
    @inline(__always)
    static func isSeparator(_ s: UInt32) -> Bool {
        if s < 0x80 {
            return s == 0x20 || s == 0x09 || s == 0x2D || s == 0x2E || s == 0x5F || s == 0x2F
        }
        return UTF8Scalar.isHorizontalSpace(s) || UTF8Scalar.isDash(s) || s == 0xB7 || s == 0x2022 || s == 0x2027
            || s == 0x30FB || s == 0xFF0E || s == 0xFF0F
    }

    struct Scanner {
        var groups: [Group] = []
        var head = 0
        var digits: [UInt8] = []
        /// Digits held in `groups[head...]` (saturating at large values is unnecessary: it
        /// only grows by one group before a drain consumes the head).
        var buffered = 0
        var scratch = [UInt8](repeating: 0, count: CreditCardDetector.maxDigits)

        mutating func reset() {
            groups.removeAll(keepingCapacity: true)
            digits.removeAll(keepingCapacity: true)
            head = 0
            buffered = 0
        }

        mutating func push(_ g: Group) {
            groups.append(g)
            buffered += g.count
        }

        /// Decides every start that can be decided: all of them when the run is over.
        mutating func drain(final: Bool, rightBoundaryOK: Bool, into out: inout [Range<Int>]) {
            while head < groups.count {
                if !final && buffered <= CreditCardDetector.maxDigits { break }
                var best = -1
                let s = groups[head]
                if s.mayStart, !CreditCardDetector.isNumericPunctuation(s.separatorBefore) {
                    best = longestCard(from: head, final: final, rightBoundaryOK: rightBoundaryOK)
                }
                if best >= 0 {
                    out.append(groups[head].byteStart..<groups[best].byteEnd)
                    for k in head...best { buffered -= groups[k].count }
                    head = best + 1
                } else {
                    buffered -= groups[head].count
                    head += 1
                }
            }
            // Keep the window small: drop consumed groups (and their digits) now and then.
            if head > 64 {
                let firstDigit = head < groups.count ? groups[head].digitStart : digits.count
                groups.removeFirst(head)
                digits.removeFirst(firstDigit)
                for k in groups.indices { groups[k].digitStart -= firstDigit }
                head = 0
            }
        }

        /// The last group of the longest card starting at group `head`, or -1. The window's
        /// digits are gathered once (at most 19) and the brand prefix computed once; Luhn runs
        /// only for lengths the prefix allows.
        mutating func longestCard(from head: Int, final: Bool, rightBoundaryOK: Bool) -> Int {
            let groups = self.groups
            let digits = self.digits
            return scratch.withUnsafeMutableBufferPointer { window -> Int in
                var best = -1
                var count = 0
                let sep = head + 1 < groups.count ? groups[head + 1].separatorBefore : 0
                let punct = CreditCardDetector.isNumericPunctuation(sep)
                var prefix: CreditCardDetector.Prefix?
                var e = head
                while e < groups.count {
                    let g = groups[e]
                    if e > head, g.separatorBefore != sep { break }
                    if punct, g.count < 3 || g.count > 6 { break }
                    guard count + g.count <= CreditCardDetector.maxDigits else { break }
                    for d in 0..<g.count { window[count + d] = digits[g.digitStart + d] }
                    count += g.count
                    if count >= 12 {
                        let isLast = e == groups.count - 1
                        let next = isLast ? 0 : groups[e + 1].separatorBefore
                        let endOK = isLast ? (final && rightBoundaryOK) : !CreditCardDetector.isNumericPunctuation(next) || next == sep
                        let shapeOK = !punct || e - head >= 2
                        let p = prefix ?? CreditCardDetector.Prefix(UnsafeBufferPointer(window))
                        prefix = p
                        if endOK, shapeOK, p.allows(length: count),
                           CreditCardDetector.luhn(UnsafeBufferPointer(rebasing: window[0..<count])) {
                            best = e
                        }
                    }
                    e += 1
                }
                return best
            }
        }
    }

    static func scan(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Range<Int>]) {
        let n = text.count
        var scanner = Scanner()
        var i = 0
        var prevAlnum = false
        while i < n {
            let b = text[i]
            if b < 0x80, !ByteClass.isDigit(b) {
                prevAlnum = ByteClass.isAlpha(b)
                i += 1
                continue
            }
            let (s, len) = UTF8Scalar.decode(text, i)
            guard UTF8Scalar.digitValue(s) != nil else {
                if !UTF8Scalar.isDefaultIgnorable(s) { prevAlnum = UTF8Scalar.isAlnum(s) }
                i += len
                continue
            }
            i = scanRun(text, from: i, mayStart: !prevAlnum, scanner: &scanner, into: &out)
            prevAlnum = true
        }
    }

    /// Skips at most `maxInvisiblePerGap` invisible scalars from `j`.
    @inline(__always)
    static func skipInvisible(_ text: UnsafeBufferPointer<UInt8>, _ j: Int) -> Int {
        var k = j
        var skipped = 0
        while k < text.count, text[k] >= 0x80, skipped < maxInvisiblePerGap {
            let (s, len) = UTF8Scalar.decode(text, k)
            guard UTF8Scalar.isDefaultIgnorable(s) else { break }
            k += len
            skipped += 1
        }
        return k
    }

    /// Collects one run of digit groups starting at the digit at `start`; returns where the
    /// run's last digit ends.
    static func scanRun(_ text: UnsafeBufferPointer<UInt8>, from start: Int, mayStart: Bool, scanner: inout Scanner,
                        into out: inout [Range<Int>]) -> Int {
        let n = text.count
        scanner.reset()
        var j = start
        var separator: UInt32 = 0
        var first = true
        var lastDigitEnd = start
        while true {
            let groupStart = j
            let digitStart = scanner.digits.count
            var count = 0
            while j < n {
                let (s, len) = UTF8Scalar.decode(text, j)
                guard let d = UTF8Scalar.digitValue(s) else { break }
                if count < maxDigits { scanner.digits.append(d) }
                count += 1
                j += len
                lastDigitEnd = j
                j = skipInvisible(text, j)
            }
            scanner.push(Group(byteStart: groupStart, byteEnd: lastDigitEnd, count: count, digitStart: digitStart,
                               separatorBefore: separator, mayStart: first ? mayStart : true))
            first = false
            scanner.drain(final: false, rightBoundaryOK: false, into: &out)
            // A separator joins the next group only when a digit follows it.
            guard j < n else { break }
            let (s, len) = UTF8Scalar.decode(text, j)
            guard isSeparator(s) else { break }
            let k = skipInvisible(text, j + len)
            guard k < n, UTF8Scalar.digitValue(UTF8Scalar.decode(text, k).scalar) != nil else { break }
            separator = s
            j = k
        }
        let afterIndex = skipInvisible(text, lastDigitEnd)
        let after: UInt32 = afterIndex < n ? UTF8Scalar.decode(text, afterIndex).scalar : 0
        scanner.drain(final: true, rightBoundaryOK: !UTF8Scalar.isLetter(after), into: &out)
        return lastDigitEnd
    }

    /// The leading digits a brand is recognised by.
    struct Prefix {
        var first: UInt8, p2: Int, p3: Int, p4: Int, p6: Int

        init(_ d: UnsafeBufferPointer<UInt8>) {
            first = d[0]
            p2 = Int(d[0]) * 10 + Int(d[1])
            p3 = p2 * 10 + Int(d[2])
            p4 = p3 * 10 + Int(d[3])
            p6 = (p4 * 10 + Int(d[4])) * 10 + Int(d[5])
        }

        /// Whether some brand issues numbers of `n` digits with this prefix.
        func allows(length n: Int) -> Bool {
            if first == 4, n == 13 || n == 16 || n == 19 { return true }                        // Visa
            if n == 16, (51...55).contains(p2) || (2221...2720).contains(p4) { return true }   // Mastercard
            if n == 15, p2 == 34 || p2 == 37 { return true }                                   // Amex
            if (16...19).contains(n), p4 == 6011 || (644...649).contains(p3) || p2 == 65
                || (622126...622925).contains(p6) { return true }                              // Discover
            if (16...19).contains(n), (3528...3589).contains(p4) { return true }               // JCB
            if (14...19).contains(n), (300...305).contains(p3) || p4 == 3095 || p2 == 36 || p2 == 38 || p2 == 39 {
                return true                                                                    // Diners
            }
            if (16...19).contains(n), p2 == 62 || p2 == 81 { return true }                     // UnionPay
            return false
        }
    }

    /// Whether `d` (digit values) has a brand's prefix and length and a valid Luhn checksum.
    static func isCard(_ d: UnsafeBufferPointer<UInt8>) -> Bool {
        d.count >= 12 && Prefix(d).allows(length: d.count) && luhn(d)
    }

    static func luhn(_ d: UnsafeBufferPointer<UInt8>) -> Bool {
        var sum = 0
        var double = false
        for k in d.indices.reversed() {
            var v = Int(d[k])
            if double {
                v *= 2
                if v > 9 { v -= 9 }
            }
            sum += v
            double.toggle()
        }
        return sum % 10 == 0
    }
}
