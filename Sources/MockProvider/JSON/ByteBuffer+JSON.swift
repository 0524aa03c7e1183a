import NIOCore

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

/// JSON text appended straight to a `ByteBuffer`. Every body the mock sends is built this way
/// (no Foundation, no intermediate strings), so a benchmark with the mock as its upstream
/// measures the gateway and not the mock's serializer.
extension ByteBuffer {
    /// Appends `s` as a JSON string literal: `\"`, `\\`, the short escapes, other control
    /// characters as `\u00XX`; everything else (non-ASCII too) verbatim as UTF-8.
    mutating func writeJSONString(_ s: String) {
        var s = s
        s.withUTF8 { self.writeJSONString(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// Appends the UTF-8 text `bytes` as a JSON string literal (see `writeJSONString(_:)`).
    mutating func writeJSONString(utf8 bytes: UnsafeRawBufferPointer) {
        writeInteger(UInt8(ascii: "\""))
        writeJSONEscaped(utf8: bytes)
        writeInteger(UInt8(ascii: "\""))
    }

    /// Appends `s` escaped for the inside of a JSON string literal, without the quotes: a
    /// literal can then be assembled from pieces (the tokens of a reply).
    mutating func writeJSONEscaped(_ s: String) {
        var s = s
        s.withUTF8 { self.writeJSONEscaped(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// Appends the UTF-8 text `bytes` escaped for the inside of a JSON string literal.
    mutating func writeJSONEscaped(utf8 bytes: UnsafeRawBufferPointer) {
        var run = 0
        for i in 0..<bytes.count {
            let b = bytes[i]
            if b >= 0x20 && b != 0x22 && b != 0x5C { continue }
            if i > run { writeBytes(UnsafeRawBufferPointer(rebasing: bytes[run..<i])) }
            switch b {
            case 0x22: writeStaticString("\\\"")
            case 0x5C: writeStaticString("\\\\")
            case 0x0A: writeStaticString("\\n")
            case 0x0D: writeStaticString("\\r")
            case 0x09: writeStaticString("\\t")
            case 0x08: writeStaticString("\\b")
            case 0x0C: writeStaticString("\\f")
            default:
                writeStaticString("\\u00")
                writeInteger(hexDigits[Int(b >> 4)])
                writeInteger(hexDigits[Int(b & 0x0F)])
            }
            run = i + 1
        }
        if run < bytes.count { writeBytes(UnsafeRawBufferPointer(rebasing: bytes[run..<bytes.count])) }
    }

    /// Appends `s` as a JSON string literal, or `null`.
    mutating func writeJSONStringOrNull(_ s: String?) {
        if let s { writeJSONString(s) } else { writeStaticString("null") }
    }

    /// Appends `n` as a JSON number.
    mutating func writeJSONInt(_ n: Int) {
        writeString(String(n))
    }

    /// A token count: `n`, or the `usage_raw` literal that replaces every count.
    mutating func writeJSONCount(_ n: Int, raw: String?) {
        if let raw { writeString(raw) } else { writeJSONInt(n) }
    }
}
