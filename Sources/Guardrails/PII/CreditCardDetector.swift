/// Payment card numbers: 12–19 digits, optionally grouped by single spaces or dashes, with a
/// known brand prefix/length and a valid Luhn checksum.
enum CreditCardDetector {
    /// One digit group of a run: which digits it holds and where its bytes are.
    struct Group {
        var firstDigit: Int
        var endDigit: Int
        var byteStart: Int
        var byteEnd: Int
    }

    static func scan(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Range<Int>]) {
        var digits: [Int] = []
        digits.reserveCapacity(32)
        var groups: [Group] = []
        var i = 0
        let n = text.count
        while i < n {
            let b = text[i]
            guard ByteClass.isDigit(b), !ByteClass.isAlnum(ByteClass.at(text, i - 1)),
                  !(ByteClass.at(text, i - 1) == 0x2E && ByteClass.isDigit(ByteClass.at(text, i - 2))) else {
                i += 1
                continue
            }
            // Collect the run: digit groups joined by single spaces or dashes.
            digits.removeAll(keepingCapacity: true)
            groups.removeAll(keepingCapacity: true)
            var j = i
            var group = Group(firstDigit: 0, endDigit: 0, byteStart: i, byteEnd: i)
            while j < n {
                let c = text[j]
                if ByteClass.isDigit(c) {
                    digits.append(ByteClass.digit(c))
                    j += 1
                } else if (c == 0x20 || c == 0x2D), ByteClass.isDigit(ByteClass.at(text, j + 1)) {
                    group.endDigit = digits.count
                    group.byteEnd = j
                    groups.append(group)
                    group = Group(firstDigit: digits.count, endDigit: 0, byteStart: j + 1, byteEnd: 0)
                    j += 1
                } else {
                    break
                }
            }
            group.endDigit = digits.count
            group.byteEnd = j
            groups.append(group)
            if !ByteClass.isAlpha(ByteClass.at(text, j)) {
                // The longest span of whole groups that is a valid card, leftmost first: a
                // card number can share a spaced run with an order number or a date.
                var s = 0
                while s < groups.count {
                    var next = s + 1
                    for e in stride(from: groups.count - 1, through: s, by: -1) {
                        let count = groups[e].endDigit - groups[s].firstDigit
                        if count >= 12, count <= 19, isCard(digits, groups[s].firstDigit..<groups[e].endDigit) {
                            out.append(groups[s].byteStart..<groups[e].byteEnd)
                            next = e + 1
                            break
                        }
                    }
                    s = next
                }
            }
            i = j
        }
    }

    /// Whether `digits[range]` has a brand's prefix and length and a valid Luhn checksum.
    static func isCard(_ digits: [Int], _ range: Range<Int>) -> Bool {
        let d = digits[range]
        let n = d.count
        let first = range.lowerBound
        func prefix(_ k: Int) -> Int {
            var v = 0
            for x in 0..<k { v = v * 10 + digits[first + x] }
            return v
        }
        let p2 = prefix(2), p3 = prefix(3), p4 = prefix(4), p6 = prefix(6)
        var brand = false
        if digits[first] == 4, n == 13 || n == 16 || n == 19 { brand = true }                      // Visa
        if n == 16, (51...55).contains(p2) || (2221...2720).contains(p4) { brand = true } // Mastercard
        if n == 15, p2 == 34 || p2 == 37 { brand = true }                                 // Amex
        if (16...19).contains(n), p4 == 6011 || (644...649).contains(p3) || p2 == 65
            || (622126...622925).contains(p6) { brand = true }                            // Discover
        if (16...19).contains(n), (3528...3589).contains(p4) { brand = true }             // JCB
        if (14...19).contains(n), (300...305).contains(p3) || p4 == 3095 || p2 == 36 || p2 == 38 || p2 == 39 {
            brand = true                                                                  // Diners
        }
        if (16...19).contains(n), p2 == 62 || p2 == 81 { brand = true }                   // UnionPay
        return brand && luhn(d)
    }

    static func luhn(_ d: ArraySlice<Int>) -> Bool {
        var sum = 0
        var double = false
        for k in d.indices.reversed() {
            var v = d[k]
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
