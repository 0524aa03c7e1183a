/// Builds JSON text the gateway writes itself (error bodies, model lists, log lines) and
/// splices byte ranges of documents it forwards (the `model` rewrite), without Foundation.
public enum JSONWriter {
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `s` as a JSON string literal: quotes, `\"`, `\\`, the short escapes, other
    /// control characters as `\u00XX`; everything else (non-ASCII too) as UTF-8.
    public static func appendQuoted(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        for b in s.utf8 {
            switch b {
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0x08: out.append(0x5C); out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(0x5C); out.append(UInt8(ascii: "f"))
            case 0x00..<0x20:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: out.append(b)
            }
        }
        out.append(0x22)
    }

    /// `s` as a JSON string literal.
    public static func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 2)
        appendQuoted(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// A copy of `bytes` with each range replaced. Ranges must be sorted and non-overlapping.
    public static func replacing(_ bytes: UnsafeRawBufferPointer, _ replacements: [(Range<Int>, [UInt8])]) -> [UInt8] {
        var size = bytes.count
        for (range, with) in replacements { size += with.count - range.count }
        var out: [UInt8] = []
        out.reserveCapacity(max(0, size))
        var cursor = 0
        for (range, with) in replacements {
            precondition(range.lowerBound >= cursor && range.upperBound <= bytes.count, "replacement ranges must be sorted, disjoint and in bounds")
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[cursor..<range.lowerBound]))
            out.append(contentsOf: with)
            cursor = range.upperBound
        }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[cursor..<bytes.count]))
        return out
    }
}
