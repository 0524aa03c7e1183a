/// IPv4 (four decimal octets ≤ 255, no leading zeros) and IPv6 (eight hex groups, `::`
/// compression, optional dotted IPv4 tail). Version strings (`v1.2.3.4`, `1.2.3.4.5`),
/// times (`12:30:45`) and MAC addresses do not qualify.
enum IPAddressDetector {
    static func scan(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Range<Int>]) {
        var v6: [Range<Int>] = []
        scanV6(text, into: &v6)
        var v4: [Range<Int>] = []
        scanV4(text, into: &v4)
        // Both lists are sorted; merge them, dropping a v4 tail inside a v6 address (already
        // covered). A merge, not a search per address: many addresses stay linear.
        var k = 0
        for r in v4 {
            while k < v6.count, v6[k].upperBound <= r.lowerBound {
                out.append(v6[k])
                k += 1
            }
            if k < v6.count, v6[k].contains(r.lowerBound) { continue }
            out.append(r)
        }
        out.append(contentsOf: v6[k...])
    }

    static func scanV4(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Range<Int>]) {
        let n = text.count
        var i = ByteClass.next(text, 0, ByteClass.startDigit)
        while i < n {
            let prev = ByteClass.at(text, i - 1)
            guard ByteClass.isDigit(text[i]), !ByteClass.isAlnum(prev), prev != 0x2E, prev != 0x2D else {
                i = ByteClass.next(text, i + 1, ByteClass.startDigit)
                continue
            }
            if let end = parseV4(text, i, n) {
                let after = ByteClass.at(text, end)
                if !ByteClass.isAlnum(after), !(after == 0x2E && ByteClass.isDigit(ByteClass.at(text, end + 1))) {
                    out.append(i..<end)
                    i = end
                    continue
                }
            }
            while i < n, ByteClass.isDigit(text[i]) || text[i] == 0x2E { i += 1 }
        }
    }

    /// End of a dotted quad starting at `i`, or nil.
    static func parseV4(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ n: Int) -> Int? {
        var i = start
        for octet in 0..<4 {
            if octet > 0 {
                guard i < n, text[i] == 0x2E else { return nil }
                i += 1
            }
            var value = 0
            var len = 0
            while i < n, ByteClass.isDigit(text[i]), len < 4 {
                value = value * 10 + ByteClass.digit(text[i])
                len += 1
                i += 1
            }
            guard len >= 1, len <= 3, value <= 255, len == 1 || text[i - len] != 0x30 else { return nil }
        }
        return i
    }

    static func scanV6(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Range<Int>]) {
        let n = text.count
        var i = ByteClass.next(text, 0, ByteClass.startHexColon)
        while i < n {
            let b = text[i]
            let prev = ByteClass.at(text, i - 1)
            guard ByteClass.isHex(b) || (b == 0x3A && ByteClass.at(text, i + 1) == 0x3A),
                  !ByteClass.isAlnum(prev), prev != 0x3A, prev != 0x2E else {
                i = ByteClass.next(text, i + 1, ByteClass.startHexColon)
                continue
            }
            var j = i
            var colons = 0
            while j < n, ByteClass.isHex(text[j]) || text[j] == 0x3A || text[j] == 0x2E {
                if text[j] == 0x3A { colons += 1 }
                j += 1
            }
            while j > i, text[j - 1] == 0x2E { j -= 1 }
            if colons >= 2, !ByteClass.isAlnum(ByteClass.at(text, j)), isV6(text, i, j) {
                out.append(i..<j)
            }
            i = max(j, i + 1)
        }
    }

    static func isV6(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var groups = 0
        var compressed = false
        var i = start
        if end - start >= 2, text[i] == 0x3A {
            guard text[i + 1] == 0x3A else { return false }
            compressed = true
            i += 2
            if i == end { return false }
        }
        while i < end {
            var len = 0
            let groupStart = i
            while i < end, ByteClass.isHex(text[i]) {
                len += 1
                i += 1
            }
            if i < end, text[i] == 0x2E {
                // Embedded IPv4 tail: must be last and counts as two groups.
                guard let v4End = parseV4(text, groupStart, end), v4End == end else { return false }
                groups += 2
                i = end
                break
            }
            guard len >= 1, len <= 4 else { return false }
            groups += 1
            if i == end { break }
            i += 1 // ':'
            if i < end, text[i] == 0x3A {
                guard !compressed else { return false }
                compressed = true
                i += 1
                if i == end { break }
            } else if i == end {
                return false // trailing single ':'
            }
        }
        return compressed ? (groups >= 2 && groups <= 7) : groups == 8
    }
}
