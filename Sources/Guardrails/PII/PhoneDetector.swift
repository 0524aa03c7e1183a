/// Telephone numbers in international (`+44 20 7946 0958`, `+14155552671`, `0044 …`) and
/// common national formats (`(415) 555-2671`, `415.555.2671`, `020 7946 0958`).
///
/// Plain digit runs without `+` are never phones here (order numbers, timestamps), and the
/// group structure rules out dates (`2024-01-15`), versions and IPv4 addresses.
enum PhoneDetector {
    static func scan(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Range<Int>]) {
        let n = text.count
        var groups: [Int] = []
        var i = ByteClass.next(text, 0, ByteClass.startPhone)
        while i < n {
            let b = text[i]
            let startsHere = (ByteClass.isDigit(b) || ((b == 0x2B || b == 0x28) && ByteClass.isDigit(ByteClass.at(text, i + 1))))
            let before = ByteClass.at(text, i - 1)
            guard startsHere, !ByteClass.isAlnum(before), before != 0x2E, before != 0x2D, before != 0x2B,
                  before != 0x2F, before != 0x3A, before != 0x5F else {
                i = ByteClass.next(text, i + 1, ByteClass.startPhone)
                continue
            }
            // Consume digits and single separators (") " and ")-" count as one).
            groups.removeAll(keepingCapacity: true)
            var j = i
            if text[j] == 0x2B { j += 1 }
            var current = 0
            var separators: UInt8 = 0   // bit set: 1 space, 2 dash, 4 dot, 8 parens
            var lastDigitEnd = j
            var openParen = false
            while j < n, j - i < 32 {
                let c = text[j]
                if ByteClass.isDigit(c) {
                    current += 1
                    j += 1
                    lastDigitEnd = j
                    continue
                }
                if current > 0 { groups.append(current); current = 0 }
                if c == 0x28, !openParen, ByteClass.isDigit(ByteClass.at(text, j + 1)) {
                    openParen = true
                    separators |= 8
                    j += 1
                } else if c == 0x29, openParen {
                    openParen = false
                    j += 1
                    let d = ByteClass.at(text, j)
                    if d == 0x20 || d == 0x2D { j += 1 }
                    guard ByteClass.isDigit(ByteClass.at(text, j)) else { break }
                } else if (c == 0x20 || c == 0x2D || c == 0x2E), ByteClass.isDigit(ByteClass.at(text, j + 1)) || ByteClass.at(text, j + 1) == 0x28 {
                    separators |= c == 0x20 ? 1 : (c == 0x2D ? 2 : 4)
                    j += 1
                } else {
                    break
                }
            }
            if current > 0 { groups.append(current) }
            let end = lastDigitEnd
            let after = ByteClass.at(text, end)
            let afterNext = ByteClass.at(text, end + 1)
            let tail = ByteClass.isAlnum(after) || ((after == 0x2E || after == 0x2D || after == 0x2F || after == 0x3A) && ByteClass.isDigit(afterNext))
            if !tail, !openParen || separators & 8 == 0, accept(text, start: i, groups: groups, separators: separators) {
                out.append(i..<end)
                i = end
                continue
            }
            i = max(j, i + 1)
        }
    }

    static func accept(_ text: UnsafeBufferPointer<UInt8>, start: Int, groups: [Int], separators: UInt8) -> Bool {
        let digits = groups.reduce(0, +)
        guard !groups.isEmpty else { return false }
        let first = text[start] == 0x2B ? text[start + 1] : (text[start] == 0x28 ? text[start + 1] : text[start])
        if text[start] == 0x2B {
            // E.164: country code never starts with 0; 8–15 digits in all.
            return (8...15).contains(digits) && first != 0x30
        }
        // Mixed separator kinds other than parens + one more are not how people write numbers.
        let kinds = (separators & 7).nonzeroBitCount
        guard groups.count >= 2, kinds <= 1 else { return false }
        // NANP: [1] 3-3-4, area and exchange codes start with 2–9.
        var g = groups[...]
        var offset = 0
        if g.count == 4, g.first == 1, text[start] == 0x31 { g = g.dropFirst(); offset = 1 }
        if g.count == 3, g[g.startIndex] == 3, g[g.startIndex + 1] == 3, g[g.startIndex + 2] == 4 {
            let area = nthDigit(text, start, offset)
            let exchange = nthDigit(text, start, offset + 3)
            return area >= 2 && exchange >= 2
        }
        // National trunk prefix 0 (or 00 international prefix): 10–15 digits in groups of 2+.
        if first == 0x30, (10...15).contains(digits), groups.allSatisfy({ $0 >= 2 }), groups.last! >= 3, separators & 4 == 0 {
            return true
        }
        return false
    }

    /// The value of the `k`-th digit from `start`, skipping non-digits.
    static func nthDigit(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ k: Int) -> Int {
        var seen = 0
        var i = start
        while i < text.count {
            if ByteClass.isDigit(text[i]) {
                if seen == k { return ByteClass.digit(text[i]) }
                seen += 1
            }
            i += 1
        }
        return -1
    }
}
