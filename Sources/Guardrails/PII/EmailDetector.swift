/// E-mail addresses: a local part of the usual unquoted characters, `@`, then a domain of at
/// least two labels whose last label (the TLD) is alphabetic.
enum EmailDetector {
    @inline(__always)
    static func isLocal(_ b: UInt8) -> Bool {
        ByteClass.isAlnum(b) || b == 0x2E || b == 0x5F || b == 0x25 || b == 0x2B || b == 0x2D
    }

    /// File extensions that are not top-level domains (unlike `.py`, Paraguay): `icon@2x.png`
    /// is an asset name, not an address.
    static let fileExtensions: Set<[UInt8]> = Set(["png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "css", "js",
                                                   "json", "txt", "pdf", "yaml", "yml", "swift"].map { Array($0.utf8) })

    static func isFileExtension(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        range.count <= 5 && fileExtensions.contains(text[range].map { $0 | 0x20 })
    }

    static func scan(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Range<Int>]) {
        let n = text.count
        var lastEnd = 0
        var a = ByteClass.next(text, 0, byte: 0x40)
        while a < n {
            guard text[a] == 0x40 else {
                a = ByteClass.next(text, a + 1, byte: 0x40)
                continue
            }
            var start = a
            while start > lastEnd, a - start < 64, isLocal(text[start - 1]) { start -= 1 }
            while start < a, text[start] == 0x2E { start += 1 }
            guard start < a, text[a - 1] != 0x2E else {
                a += 1
                continue
            }
            // Domain labels.
            var j = a + 1
            var labels = 0
            var lastLabelStart = j
            var end = a + 1
            var lastLabelAlpha = false
            while j < n {
                let labelStart = j
                var alpha = true
                while j < n, ByteClass.isAlnum(text[j]) || text[j] == 0x2D {
                    if !ByteClass.isAlpha(text[j]) { alpha = false }
                    j += 1
                }
                let len = j - labelStart
                guard len >= 1, len <= 63, text[labelStart] != 0x2D, text[j - 1] != 0x2D else { break }
                labels += 1
                lastLabelStart = labelStart
                lastLabelAlpha = alpha
                end = j
                guard j + 1 < n, text[j] == 0x2E, ByteClass.isAlnum(text[j + 1]) else { break }
                j += 1
            }
            if labels >= 2, lastLabelAlpha, end - lastLabelStart >= 2, text[end - 1] != 0x2D,
               !isFileExtension(text, lastLabelStart..<end) {
                out.append(start..<end)
                lastEnd = end
                a = end
            } else {
                a += 1
            }
        }
    }
}
