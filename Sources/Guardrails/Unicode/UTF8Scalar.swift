/// Scalar-level helpers for the byte scanners: decoding one UTF-8 sequence and the character
/// classes (invisible, separator, fullwidth digit) that several detectors share.
///
/// Decoding never reads past the buffer and never traps: an invalid or truncated sequence is
/// one byte of U+FFFD, so a scanner always advances.
enum UTF8Scalar {
    /// Decodes the scalar at `i` (which must be `< text.count`).
    @inline(__always)
    static func decode(_ text: UnsafeBufferPointer<UInt8>, _ i: Int) -> (scalar: UInt32, length: Int) {
        let lead = text[i]
        if lead < 0x80 { return (UInt32(lead), 1) }
        let length: Int
        var scalar: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; scalar = UInt32(lead & 0x1F)
        case 0xE0...0xEF: length = 3; scalar = UInt32(lead & 0x0F)
        case 0xF0...0xF4: length = 4; scalar = UInt32(lead & 0x07)
        default: return (0xFFFD, 1)
        }
        guard i + length <= text.count else { return (0xFFFD, 1) }
        for k in 1..<length {
            let c = text[i + k]
            guard c & 0xC0 == 0x80 else { return (0xFFFD, 1) }
            scalar = scalar << 6 | UInt32(c & 0x3F)
        }
        // Overlong forms and surrogates are not scalars.
        if (length == 3 && scalar < 0x800) || (length == 4 && (scalar < 0x10000 || scalar > 0x10FFFF))
            || (scalar >= 0xD800 && scalar <= 0xDFFF) {
            return (0xFFFD, 1)
        }
        return (scalar, length)
    }

    /// Unicode `Default_Ignorable_Code_Point` (DerivedCoreProperties, Unicode 15.1): renders as
    /// nothing, so it can be slipped between the letters of a phrase or the digits of a number.
    /// Includes the tag characters U+E0000–E007F and the variation selectors.
    @inline(__always)
    static func isDefaultIgnorable(_ s: UInt32) -> Bool {
        if s < 0xAD { return false }
        switch s {
        case 0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B...0x180F,
             0x200B...0x200F, 0x202A...0x202E, 0x2060...0x206F, 0x3164, 0xFE00...0xFE0F, 0xFEFF,
             0xFFA0, 0xFFF0...0xFFF8, 0x1BCA0...0x1BCA3, 0x1D173...0x1D17A, 0xE0000...0xE0FFF:
            return true
        default:
            return false
        }
    }

    /// Whitespace other than line breaks (Unicode `Zs` plus tab).
    @inline(__always)
    static func isHorizontalSpace(_ s: UInt32) -> Bool {
        s == 0x20 || s == 0x09 || s == 0xA0 || s == 0x1680 || (s >= 0x2000 && s <= 0x200A) || s == 0x202F || s == 0x205F || s == 0x3000
    }

    /// Dash punctuation people put between digit groups: ASCII hyphen-minus, the U+2010–2015
    /// hyphens and dashes (en dash included), minus sign, small/fullwidth hyphen-minus.
    @inline(__always)
    static func isDash(_ s: UInt32) -> Bool {
        s == 0x2D || (s >= 0x2010 && s <= 0x2015) || s == 0x2212 || s == 0xFE58 || s == 0xFE63 || s == 0xFF0D
    }

    /// Value of an ASCII or fullwidth (U+FF10–FF19) decimal digit.
    @inline(__always)
    static func digitValue(_ s: UInt32) -> UInt8? {
        if s &- 0x30 < 10 { return UInt8(s - 0x30) }
        if s &- 0xFF10 < 10 { return UInt8(s - 0xFF10) }
        return nil
    }

    /// An ASCII or fullwidth letter or digit: what makes a neighbour part of the same word.
    @inline(__always)
    static func isAlnum(_ s: UInt32) -> Bool {
        if s < 0x80 { return ByteClass.isAlnum(UInt8(s)) }
        return (s >= 0xFF10 && s <= 0xFF19) || (s >= 0xFF21 && s <= 0xFF3A) || (s >= 0xFF41 && s <= 0xFF5A)
    }

    /// An ASCII or fullwidth letter.
    @inline(__always)
    static func isLetter(_ s: UInt32) -> Bool {
        if s < 0x80 { return ByteClass.isAlpha(UInt8(s)) }
        return (s >= 0xFF21 && s <= 0xFF3A) || (s >= 0xFF41 && s <= 0xFF5A)
    }
}
