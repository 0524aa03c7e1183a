/// Percent-decoding of URL path segments and form values (`%2B` → `+`), without Foundation.
enum PercentDecoding {
    /// `s` with `%XX` escapes decoded (and `+` as a space when `plusIsSpace`, as in forms);
    /// nil when an escape is malformed or the result is not UTF-8.
    static func decode<S: StringProtocol>(_ s: S, plusIsSpace: Bool = false) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        var it = s.utf8.makeIterator()
        while let b = it.next() {
            switch b {
            case UInt8(ascii: "%"):
                guard let hi = it.next().flatMap(hex), let lo = it.next().flatMap(hex) else { return nil }
                out.append(hi << 4 | lo)
            case UInt8(ascii: "+") where plusIsSpace:
                out.append(UInt8(ascii: " "))
            default:
                out.append(b)
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
