/// Which trigger bytes a text contains, from one pass over it (one table load and an OR per
/// byte, no branches): every built-in detector needs some byte to occur before it can match
/// at all (an e-mail needs `@`, a card or phone number a digit, a JWT the `J` of `eyJ`, a PEM
/// block `-`), so a detector whose trigger is absent is skipped without reading the text.
/// The same pass says whether the text is ASCII, which picks the keyword and injection paths.
///
/// Conservative by construction: a detector is skipped only when a byte every one of its
/// matches contains is missing, so no finding is ever lost (DetectorCorpusTests, and
/// RedactionTests comparing against every detector run unconditionally).
struct TextTriggers {
    /// Trigger classes, one bit each.
    static let digit: UInt32 = 1 << 0
    static let at: UInt32 = 1 << 1
    static let colon: UInt32 = 1 << 2
    static let dot: UInt32 = 1 << 3
    static let upper: UInt32 = 1 << 4
    static let letterA: UInt32 = 1 << 5
    static let lower: UInt32 = 1 << 6
    static let dash: UInt32 = 1 << 7
    static let underscore: UInt32 = 1 << 8
    static let letterJ: UInt32 = 1 << 9
    static let letterZ: UInt32 = 1 << 10
    static let nonASCII: UInt32 = 1 << 11

    /// Byte → its trigger bits.
    static let table: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 256)
        for b in 0x30...0x39 { t[b] |= digit }
        for b in 0x41...0x5A { t[b] |= upper }
        for b in 0x61...0x7A { t[b] |= lower }
        for b in 0x80...0xFF { t[b] |= nonASCII }
        t[0x40] |= at
        t[0x3A] |= colon
        t[0x2E] |= dot
        t[0x41] |= letterA
        t[0x2D] |= dash
        t[0x5F] |= underscore
        t[0x4A] |= letterJ
        t[0x7A] |= letterZ
        return t
    }()

    /// The union of the trigger bits of every byte.
    let bits: UInt32

    init(_ text: UnsafeBufferPointer<UInt8>) {
        var acc: UInt32 = 0
        Self.table.withUnsafeBufferPointer { t in
            for b in text { acc |= t[Int(b)] }
        }
        bits = acc
    }

    var isASCII: Bool { bits & Self.nonASCII == 0 }

    /// Whether every class in `mask` occurs.
    @inline(__always)
    func hasAll(_ mask: UInt32) -> Bool { bits & mask == mask }

    /// Whether `detector` can match anything in this text: the bytes each of its matches
    /// must contain are all present.
    func mayMatch(_ detector: PIIDetector) -> Bool {
        switch detector {
        // Fullwidth digits (U+FF10–FF19) count as digits for cards.
        case .creditCard: return bits & (Self.digit | Self.nonASCII) != 0
        case .usSSN, .phone: return hasAll(Self.digit)
        case .email: return hasAll(Self.at | Self.dot)
        case .iban: return hasAll(Self.upper | Self.digit)
        case .ipAddress: return hasAll(Self.digit | Self.dot) || hasAll(Self.colon)
        case .awsAccessKey: return hasAll(Self.letterA)
        case .awsSecretKey: return hasAll(Self.upper | Self.lower | Self.digit)
        case .privateKey: return hasAll(Self.dash)
        case .jwt: return hasAll(Self.letterJ | Self.dot)
        // Every token prefix has `-` or `_` except `AIza`.
        case .apiKey: return bits & (Self.dash | Self.underscore | Self.letterZ) != 0
        }
    }
}
