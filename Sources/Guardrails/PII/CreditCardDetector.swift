/// Payment card numbers: 12–19 digits, optionally grouped by single spaces or dashes, with a
/// known brand prefix/length and a valid Luhn checksum.
enum CreditCardDetector {
    static func scan(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Range<Int>]) {
        var digits = [Int](repeating: 0, count: 24)
        // Digit count and byte end after each group of the current run.
        var groupEnds: [(count: Int, end: Int)] = []
        var i = 0
        let n = text.count
        while i < n {
            let b = text[i]
            guard ByteClass.isDigit(b), !ByteClass.isAlnum(ByteClass.at(text, i - 1)),
                  !(ByteClass.at(text, i - 1) == 0x2E && ByteClass.isDigit(ByteClass.at(text, i - 2))) else {
                i += 1
                continue
            }
            // Collect the run: digits with single separators between them.
            var count = 0
            var j = i
            groupEnds.removeAll(keepingCapacity: true)
            while j < n {
                let c = text[j]
                if ByteClass.isDigit(c) {
                    if count < digits.count { digits[count] = ByteClass.digit(c) }
                    count += 1
                    j += 1
                } else if (c == 0x20 || c == 0x2D), ByteClass.isDigit(ByteClass.at(text, j + 1)), count > 0 {
                    groupEnds.append((count, j))
                    j += 1
                } else {
                    break
                }
            }
            groupEnds.append((count, j))
            if !ByteClass.isAlpha(ByteClass.at(text, j)) {
                // The whole run, else the longest valid prefix that ends at a group boundary
                // (a card number followed by another number in the same spaced run).
                for g in groupEnds.reversed() where g.count >= 12 && g.count <= 19 {
                    if isCard(digits, g.count) {
                        out.append(i..<g.end)
                        break
                    }
                }
            }
            i = j
        }
    }

    static func isCard(_ d: [Int], _ n: Int) -> Bool {
        func prefix(_ k: Int) -> Int {
            var v = 0
            for x in 0..<k { v = v * 10 + d[x] }
            return v
        }
        let p2 = prefix(2), p3 = prefix(3), p4 = prefix(4), p6 = prefix(6)
        var brand = false
        if d[0] == 4, n == 13 || n == 16 || n == 19 { brand = true }                      // Visa
        if n == 16, (51...55).contains(p2) || (2221...2720).contains(p4) { brand = true } // Mastercard
        if n == 15, p2 == 34 || p2 == 37 { brand = true }                                 // Amex
        if (16...19).contains(n), p4 == 6011 || (644...649).contains(p3) || p2 == 65
            || (622126...622925).contains(p6) { brand = true }                            // Discover
        if (16...19).contains(n), (3528...3589).contains(p4) { brand = true }             // JCB
        if (14...19).contains(n), (300...305).contains(p3) || p4 == 3095 || p2 == 36 || p2 == 38 || p2 == 39 {
            brand = true                                                                  // Diners
        }
        if (16...19).contains(n), p2 == 62 || p2 == 81 { brand = true }                   // UnionPay
        return brand && luhn(d, n)
    }

    static func luhn(_ d: [Int], _ n: Int) -> Bool {
        var sum = 0
        var double = false
        for k in stride(from: n - 1, through: 0, by: -1) {
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
