/// JSON Web Tokens: three base64url segments separated by dots whose first segment decodes to
/// a JSON object with an `alg` member.
enum JWTDetector {
    static let algKey = Array("\"alg\"".utf8)

    static func scan(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Range<Int>]) {
        let n = text.count
        var i = ByteClass.next(text, 0, byte: 0x65)
        while i + 3 < n {
            // Every JWT header starts with `{"` = base64 `eyJ`.
            guard text[i] == 0x65, text[i + 1] == 0x79, text[i + 2] == 0x4A, !ByteClass.isBase64URL(ByteClass.at(text, i - 1)) else {
                i = ByteClass.next(text, i + 1, byte: 0x65)
                continue
            }
            var segments: [Range<Int>] = []
            var j = i
            var segStart = i
            while j <= n {
                if j < n, ByteClass.isBase64URL(text[j]) {
                    j += 1
                    continue
                }
                segments.append(segStart..<j)
                if segments.count < 3, j < n, text[j] == 0x2E {
                    j += 1
                    segStart = j
                    continue
                }
                break
            }
            if segments.count == 3, segments[0].count >= 10, segments[1].count >= 2, segments[2].count >= 16,
               headerHasAlg(text, segments[0]) {
                out.append(i..<segments[2].upperBound)
                i = segments[2].upperBound
                continue
            }
            i += 3
        }
    }

    static func headerHasAlg(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard let decoded = Base64URL.decode(text, range), decoded.first == 0x7B else { return false }
        return decoded.withUnsafeBufferPointer { d in
            var k = 0
            while k + algKey.count <= d.count {
                if SecretDetectors.matches(d, k, algKey) { return true }
                k += 1
            }
            return false
        }
    }
}

/// base64url without padding (RFC 4648 §5), decoding only what the JWT check needs.
enum Base64URL {
    static func value(_ b: UInt8) -> UInt32? {
        switch b {
        case 0x41...0x5A: return UInt32(b - 0x41)
        case 0x61...0x7A: return UInt32(b - 0x61 + 26)
        case 0x30...0x39: return UInt32(b - 0x30 + 52)
        case 0x2D, 0x2B: return 62
        case 0x5F, 0x2F: return 63
        default: return nil
        }
    }

    static func decode(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [UInt8]? {
        guard range.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(range.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for i in range {
            guard let v = value(text[i]) else { return nil }
            acc = acc << 6 | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        return out
    }
}
