/// International Bank Account Numbers: country code, two check digits and the country's
/// fixed-length BBAN, optionally in groups of four separated by spaces; the length must match
/// the country and the ISO 7064 mod-97 checksum must be 1.
enum IBANDetector {
    /// IBAN length per country (SWIFT IBAN registry).
    static let lengths: [UInt16: Int] = {
        let table: [(String, Int)] = [
            ("AD", 24), ("AE", 23), ("AL", 28), ("AT", 20), ("AZ", 28), ("BA", 20), ("BE", 16), ("BG", 22), ("BH", 22),
            ("BR", 29), ("BY", 28), ("CH", 21), ("CR", 22), ("CY", 28), ("CZ", 24), ("DE", 22), ("DK", 18), ("DO", 28),
            ("EE", 20), ("EG", 29), ("ES", 24), ("FI", 18), ("FO", 18), ("FR", 27), ("GB", 22), ("GE", 22), ("GI", 23),
            ("GL", 18), ("GR", 27), ("GT", 28), ("HR", 21), ("HU", 28), ("IE", 22), ("IL", 23), ("IQ", 23), ("IS", 26),
            ("IT", 27), ("JO", 30), ("KW", 30), ("KZ", 20), ("LB", 28), ("LC", 32), ("LI", 21), ("LT", 20), ("LU", 20),
            ("LV", 21), ("MC", 27), ("MD", 24), ("ME", 22), ("MK", 19), ("MR", 27), ("MT", 31), ("MU", 30), ("NL", 18),
            ("NO", 15), ("PK", 24), ("PL", 28), ("PS", 29), ("PT", 25), ("QA", 29), ("RO", 24), ("RS", 22), ("SA", 24),
            ("SC", 31), ("SE", 24), ("SI", 19), ("SK", 24), ("SM", 27), ("ST", 25), ("SV", 28), ("TL", 23), ("TN", 24),
            ("TR", 26), ("UA", 29), ("VA", 22), ("VG", 24), ("XK", 20),
        ]
        var out: [UInt16: Int] = [:]
        for (code, length) in table {
            let u = Array(code.utf8)
            out[UInt16(u[0]) << 8 | UInt16(u[1])] = length
        }
        return out
    }()

    static func scan(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Range<Int>]) {
        let n = text.count
        var chars = [UInt8](repeating: 0, count: 34)
        var i = ByteClass.next(text, 0, ByteClass.startUpper)
        while i + 15 <= n {
            guard ByteClass.isUpper(text[i]), ByteClass.isUpper(text[i + 1]), ByteClass.isDigit(text[i + 2]),
                  ByteClass.isDigit(text[i + 3]), !ByteClass.isAlnum(ByteClass.at(text, i - 1)),
                  let length = lengths[UInt16(text[i]) << 8 | UInt16(text[i + 1])] else {
                i = ByteClass.next(text, i + 1, ByteClass.startUpper)
                continue
            }
            var count = 0
            var j = i
            while j < n, count < length {
                let c = text[j]
                if ByteClass.isDigit(c) || ByteClass.isUpper(c) {
                    chars[count] = c
                    count += 1
                    j += 1
                } else if c == 0x20, count % 4 == 0, count > 0, j + 1 < n, ByteClass.isAlnum(text[j + 1]) {
                    j += 1
                } else {
                    break
                }
            }
            if count == length, !ByteClass.isAlnum(ByteClass.at(text, j)), mod97(chars, length) == 1 {
                out.append(i..<j)
                i = j
                continue
            }
            i += 1
        }
    }

    /// The IBAN check: move the first four characters to the end, letters become 10…35,
    /// the resulting number mod 97.
    static func mod97(_ chars: [UInt8], _ length: Int) -> Int {
        var r = 0
        for k in 0..<length {
            let c = chars[(k + 4) % length]
            if ByteClass.isDigit(c) {
                r = (r * 10 + ByteClass.digit(c)) % 97
            } else {
                r = (r * 100 + Int(c - 0x41 + 10)) % 97
            }
        }
        return r
    }
}
