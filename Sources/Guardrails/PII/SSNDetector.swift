/// US Social Security numbers written `AAA-GG-SSSS` or `AAA GG SSSS` (one separator kind),
/// minus the ranges the SSA never issues: area 000, 666 and 900–999, group 00, serial 0000.
/// Nine bare digits are not reported: too many order and phone numbers look like that.
enum SSNDetector {
    static func scan(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Range<Int>]) {
        let n = text.count
        guard n >= 11 else { return }
        var i = ByteClass.next(text, 0, ByteClass.startDigit)
        while i + 11 <= n {
            let sep = text[i + 3]
            guard sep == 0x2D || sep == 0x20, text[i + 6] == sep, ByteClass.isDigit(text[i]) else {
                i = ByteClass.next(text, i + 1, ByteClass.startDigit)
                continue
            }
            var ok = true
            for k in [0, 1, 2, 4, 5, 7, 8, 9, 10] where !ByteClass.isDigit(text[i + k]) {
                ok = false
                break
            }
            let before = ByteClass.at(text, i - 1), after = ByteClass.at(text, i + 11)
            // Not inside a version or decimal (`1.123-45-6789`).
            let decimal = before == 0x2E && ByteClass.isDigit(ByteClass.at(text, i - 2))
            if ok, !decimal, !ByteClass.isAlnum(before), before != 0x2D, !ByteClass.isAlnum(after), after != 0x2D,
               !(after == 0x2E && ByteClass.isDigit(ByteClass.at(text, i + 12))),
               !(sep == 0x20 && (ByteClass.isDigit(ByteClass.at(text, i - 2)) && before == 0x20)) {
                func value(_ from: Int, _ len: Int) -> Int {
                    var v = 0
                    for k in from..<(from + len) { v = v * 10 + ByteClass.digit(text[i + k]) }
                    return v
                }
                let area = value(0, 3), group = value(4, 2), serial = value(7, 4)
                if area != 0, area != 666, area < 900, group != 0, serial != 0 {
                    out.append(i..<(i + 11))
                    i += 11
                    continue
                }
            }
            i += 1
        }
    }
}
