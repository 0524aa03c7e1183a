#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The built-in PII and secret detectors. Each one validates what it finds (checksums,
/// ranges, structure) instead of trusting a bare pattern, so near-misses such as a
/// Luhn-failing card number or a version string are not reported.
public enum PIIDetector: String, Codable, Sendable, CaseIterable {
    case creditCard = "credit_card"
    case usSSN = "us_ssn"
    case email
    case phone
    case iban
    case ipAddress = "ip_address"
    case awsAccessKey = "aws_access_key"
    case awsSecretKey = "aws_secret_key"
    case privateKey = "private_key"
    case jwt
    case apiKey = "api_key"

    /// The label used in `[REDACTED:<TYPE>]`.
    public var redactionType: String {
        switch self {
        case .creditCard: return "CREDIT_CARD"
        case .usSSN: return "US_SSN"
        case .email: return "EMAIL"
        case .phone: return "PHONE"
        case .iban: return "IBAN"
        case .ipAddress: return "IP_ADDRESS"
        case .awsAccessKey: return "AWS_ACCESS_KEY"
        case .awsSecretKey: return "AWS_SECRET_KEY"
        case .privateKey: return "PRIVATE_KEY"
        case .jwt: return "JWT"
        case .apiKey: return "API_KEY"
        }
    }

    /// Longest span this detector can report when it is bounded (used to size the streaming
    /// hold-back window); nil for detectors whose matches are unbounded (PEM blocks).
    public var maxMatchLength: Int? {
        switch self {
        case .creditCard: return CreditCardDetector.maxMatchBytes
        case .usSSN: return 11
        case .email: return 254
        case .phone: return 32
        case .iban: return 34 + 8
        case .ipAddress: return 45
        case .awsAccessKey: return 20
        case .awsSecretKey: return 40
        case .privateKey: return nil
        case .jwt: return 2048
        case .apiKey: return 256
        }
    }

    /// Appends every match in `text` as a byte range.
    public func scan(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Range<Int>]) {
        switch self {
        case .creditCard: CreditCardDetector.scan(text, into: &out)
        case .usSSN: SSNDetector.scan(text, into: &out)
        case .email: EmailDetector.scan(text, into: &out)
        case .phone: PhoneDetector.scan(text, into: &out)
        case .iban: IBANDetector.scan(text, into: &out)
        case .ipAddress: IPAddressDetector.scan(text, into: &out)
        case .awsAccessKey: SecretDetectors.scanAWSAccessKeys(text, into: &out)
        case .awsSecretKey: SecretDetectors.scanAWSSecretKeys(text, into: &out)
        case .privateKey: SecretDetectors.scanPrivateKeys(text, into: &out)
        case .jwt: JWTDetector.scan(text, into: &out)
        case .apiKey: SecretDetectors.scanAPIKeys(text, into: &out)
        }
    }

    /// Convenience for tests: the matched substrings of `text`.
    public func matches(in text: String) -> [String] {
        let bytes = Array(text.utf8)
        var ranges: [Range<Int>] = []
        bytes.withUnsafeBufferPointer { scan($0, into: &ranges) }
        return ranges.map { String(decoding: bytes[$0], as: UTF8.self) }
    }
}

/// Byte classes shared by the detectors.
enum ByteClass {
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
    @inline(__always) static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }
    @inline(__always) static func isUpper(_ b: UInt8) -> Bool { b &- 0x41 < 26 }
    @inline(__always) static func isLower(_ b: UInt8) -> Bool { b &- 0x61 < 26 }
    @inline(__always) static func isAlnum(_ b: UInt8) -> Bool { isDigit(b) || isAlpha(b) }
    @inline(__always) static func isHex(_ b: UInt8) -> Bool { isDigit(b) || (b | 0x20) &- 0x61 < 6 }
    @inline(__always) static func isBase64URL(_ b: UInt8) -> Bool { isAlnum(b) || b == 0x2D || b == 0x5F }

    /// The byte at `i`, or 0 outside the buffer (0 is a boundary for every detector).
    @inline(__always) static func at(_ text: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt8 {
        i >= 0 && i < text.count ? text[i] : 0
    }

    /// Digit value of an ASCII digit.
    @inline(__always) static func digit(_ b: UInt8) -> Int { Int(b &- 0x30) }

    /// Start classes for `next(_:_:_:)`: the bytes a detector's match can begin with.
    static let startDigit: UInt16 = 1 << 0
    static let startPhone: UInt16 = 1 << 1      // digit, `+`, `(`
    static let startHexColon: UInt16 = 1 << 2   // hex digit, `:`
    static let startUpper: UInt16 = 1 << 3
    static let startAPIKey: UInt16 = 1 << 4     // first bytes of the token prefixes

    static let startTable: [UInt16] = {
        var t = [UInt16](repeating: 0, count: 256)
        for b in 0...255 {
            let c = UInt8(b)
            if isDigit(c) { t[b] |= startDigit | startPhone | startHexColon }
            if isHex(c) || c == 0x3A { t[b] |= startHexColon }
            if isUpper(c) { t[b] |= startUpper }
        }
        t[0x2B] |= startPhone
        t[0x28] |= startPhone
        for shape in SecretDetectors.tokenShapes { t[Int(shape.prefix[0])] |= startAPIKey }
        return t
    }()

    /// The first index from `from` whose byte is in a class of `mask` (or `text.count`): a
    /// detector jumps over bytes no match can start with, with one table load per byte,
    /// instead of running its whole guard on each. Its guard still decides at the index.
    @inline(__always)
    static func next(_ text: UnsafeBufferPointer<UInt8>, _ from: Int, _ mask: UInt16) -> Int {
        startTable.withUnsafeBufferPointer { t in
            var i = from
            let n = text.count
            while i < n, t[Int(text[i])] & mask == 0 { i += 1 }
            return i
        }
    }

    /// The first index from `from` holding `byte` (or `text.count`), by `memchr`.
    @inline(__always)
    static func next(_ text: UnsafeBufferPointer<UInt8>, _ from: Int, byte: UInt8) -> Int {
        guard let base = text.baseAddress, from < text.count else { return text.count }
        guard let hit = memchr(base + from, Int32(byte), text.count - from) else { return text.count }
        return UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
    }
}
