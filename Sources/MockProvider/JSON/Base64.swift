import NIOCore

/// Base64 (RFC 4648) without Foundation: the standard alphabet with padding for embeddings
/// (`encoding_format: base64`), and decoding of both alphabets for JWT segments (base64url).
enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Appends `bytes`, base64-encoded with padding.
    static func write(_ bytes: [UInt8], into b: inout ByteBuffer) {
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            b.writeInteger(alphabet[Int(n >> 18 & 63)])
            b.writeInteger(alphabet[Int(n >> 12 & 63)])
            b.writeInteger(alphabet[Int(n >> 6 & 63)])
            b.writeInteger(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = bytes.count - i
        guard rest > 0 else { return }
        let n = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
        b.writeInteger(alphabet[Int(n >> 18 & 63)])
        b.writeInteger(alphabet[Int(n >> 12 & 63)])
        if rest == 2 {
            b.writeInteger(alphabet[Int(n >> 6 & 63)])
        } else {
            b.writeStaticString("=")
        }
        b.writeStaticString("=")
    }

    /// Decodes standard or URL-safe base64, padded or not; nil on any other character.
    static func decode<S: StringProtocol>(_ s: S) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for c in s.utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = c - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = c - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"), UInt8(ascii: "-"): v = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): v = 63
            case UInt8(ascii: "="): continue
            default: return nil
            }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        return out
    }
}
