#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A strict (RFC 8259), single-pass JSON validator that records where things are instead of
/// building values: the hot path needs to know that a request body is valid JSON, where its
/// top-level `model` value is, and little else, so it never pays for Foundation's object
/// graphs. Works on raw bytes, allocates only the member list of the scanned object.
public enum JSONScanner {
    /// Nesting deeper than this is refused (protects the recursive descent's stack).
    public static let maxDepth = 128

    /// Validates the whole document and returns the members of its top-level object.
    public static func scanObject(_ bytes: UnsafeRawBufferPointer) throws(JSONScanError) -> JSONObjectIndex {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        guard parser.peek() == UInt8(ascii: "{") else {
            if parser.atEnd { throw JSONScanError(offset: parser.index, reason: "empty document") }
            throw JSONScanError(offset: parser.index, reason: "expected a JSON object at the top level")
        }
        var members: [JSONObjectIndex.Member] = []
        try parser.parseObject(depth: 1, record: &members)
        parser.skipWhitespace()
        guard parser.atEnd else { throw JSONScanError(offset: parser.index, reason: "trailing characters after the JSON document") }
        return JSONObjectIndex(members: members)
    }

    public static func scanObject(_ bytes: [UInt8]) throws(JSONScanError) -> JSONObjectIndex {
        do {
            return try bytes.withUnsafeBytes { raw in try scanObject(raw) }
        } catch let error as JSONScanError {
            throw error
        } catch {
            throw JSONScanError(offset: 0, reason: "\(error)")
        }
    }

    /// Validates the members of the object occupying `range` of `bytes` (e.g. a nested
    /// object found by an earlier scan) and returns them, with ranges relative to `bytes`.
    public static func scanObject(_ bytes: UnsafeRawBufferPointer, in range: Range<Int>) throws(JSONScanError) -> JSONObjectIndex {
        guard range.lowerBound >= 0, range.upperBound <= bytes.count else {
            throw JSONScanError(offset: range.lowerBound, reason: "range outside the buffer")
        }
        var parser = JSONParser(bytes: bytes, start: range.lowerBound, end: range.upperBound)
        parser.skipWhitespace()
        guard parser.peek() == UInt8(ascii: "{") else {
            throw JSONScanError(offset: parser.index, reason: "expected a JSON object")
        }
        var members: [JSONObjectIndex.Member] = []
        try parser.parseObject(depth: 1, record: &members)
        parser.skipWhitespace()
        guard parser.atEnd else { throw JSONScanError(offset: parser.index, reason: "trailing characters after the JSON object") }
        return JSONObjectIndex(members: members)
    }

    /// Validates any JSON document (object, array, string, number, literal).
    public static func validate(_ bytes: UnsafeRawBufferPointer) throws(JSONScanError) {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        if parser.atEnd { throw JSONScanError(offset: 0, reason: "empty document") }
        _ = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.atEnd else { throw JSONScanError(offset: parser.index, reason: "trailing characters after the JSON document") }
    }

    /// Decodes the string literal at `range` (quotes included), resolving every escape.
    /// Returns nil when the range is not a valid string literal.
    public static func decodeString(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String? {
        guard range.count >= 2, range.lowerBound >= 0, range.upperBound <= bytes.count,
              bytes[range.lowerBound] == UInt8(ascii: "\""), bytes[range.upperBound - 1] == UInt8(ascii: "\"") else { return nil }
        let inner = (range.lowerBound + 1)..<(range.upperBound - 1)
        var hasEscape = false
        for i in inner where bytes[i] == UInt8(ascii: "\\") {
            hasEscape = true
            break
        }
        if !hasEscape {
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[inner]), as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(inner.count)
        var i = inner.lowerBound
        while i < inner.upperBound {
            let b = bytes[i]
            if b != UInt8(ascii: "\\") {
                out.append(b)
                i += 1
                continue
            }
            guard i + 1 < inner.upperBound else { return nil }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard let hi = hex4(bytes, i, inner.upperBound) else { return nil }
                i += 4
                var scalar = UInt32(hi)
                if (0xD800...0xDBFF).contains(hi) {
                    guard i + 6 <= inner.upperBound, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u"),
                          let lo = hex4(bytes, i + 2, inner.upperBound), (0xDC00...0xDFFF).contains(lo) else { return nil }
                    i += 6
                    scalar = 0x10000 + ((UInt32(hi) - 0xD800) << 10) + (UInt32(lo) - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(hi) {
                    return nil
                }
                guard let u = Unicode.Scalar(scalar) else { return nil }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                return nil
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The number literal at `range` as an Int, pinned to Int's range (NaN cannot occur in
    /// JSON); a fraction or exponent is rounded toward zero. nil when it is not a number.
    public static func saturatingInt(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty, range.lowerBound >= 0, range.upperBound <= bytes.count else { return nil }
        var i = range.lowerBound
        let negative = bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        var value = 0
        var overflow = false
        var digits = 0
        while i < range.upperBound, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
            if !overflow {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int(bytes[i] - UInt8(ascii: "0")))
                if o1 || o2 { overflow = true } else { value = a }
            }
            digits += 1
            i += 1
        }
        guard digits > 0 else { return nil }
        if i < range.upperBound {
            guard let d = Double(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)) else { return nil }
            return Saturating.int(d)
        }
        if overflow { return negative ? .min : .max }
        return negative ? -value : value
    }

    public static func decodeString(_ bytes: [UInt8], _ range: Range<Int>) -> String? {
        bytes.withUnsafeBytes { decodeString($0, range) }
    }

    static func hex4(_ bytes: UnsafeRawBufferPointer, _ at: Int, _ end: Int) -> UInt16? {
        guard at + 4 <= end else { return nil }
        var v: UInt16 = 0
        for k in 0..<4 {
            guard let d = hexValue(bytes[at + k]) else { return nil }
            v = v << 4 | UInt16(d)
        }
        return v
    }

    @inline(__always)
    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Why a document was refused, with the byte offset where the scanner stopped.
public struct JSONScanError: Error, Equatable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }
    public var description: String { "\(reason) at byte \(offset)" }
}

public enum JSONValueKind: Sendable, Equatable {
    case object, array, string, number, bool, null
}

/// The members of a scanned object, as byte ranges into the scanned buffer.
public struct JSONObjectIndex: Sendable {
    public struct Member: Sendable, Equatable {
        /// The key's raw bytes without the quotes (escapes not decoded).
        public var key: Range<Int>
        /// The value's bytes (a string's quotes included).
        public var value: Range<Int>
        public var kind: JSONValueKind
        /// Whether the key contains a backslash (then compare decoded).
        public var keyHasEscape: Bool
    }

    public var members: [Member]

    /// The member named `key` (the last one when a key repeats, as most parsers do). Needs
    /// the scanned bytes to compare keys.
    public func member(_ key: String, in bytes: UnsafeRawBufferPointer) -> Member? {
        var utf8 = Array(key.utf8)
        return utf8.withUnsafeMutableBufferPointer { wanted in
            var found: Member?
            for m in members {
                if m.keyHasEscape {
                    let quoted = (m.key.lowerBound - 1)..<(m.key.upperBound + 1)
                    if JSONScanner.decodeString(bytes, quoted) == key { found = m }
                    continue
                }
                guard m.key.count == wanted.count else { continue }
                var equal = true
                var j = 0
                for i in m.key {
                    if bytes[i] != wanted[j] {
                        equal = false
                        break
                    }
                    j += 1
                }
                if equal { found = m }
            }
            return found
        }
    }

    /// A member's value as a Bool, if it is `true` or `false`.
    public func bool(_ key: String, in bytes: UnsafeRawBufferPointer) -> Bool? {
        guard let m = member(key, in: bytes), m.kind == .bool else { return nil }
        return bytes[m.value.lowerBound] == UInt8(ascii: "t")
    }

    /// A member's value as a String, if it is a string.
    public func string(_ key: String, in bytes: UnsafeRawBufferPointer) -> String? {
        guard let m = member(key, in: bytes), m.kind == .string else { return nil }
        return JSONScanner.decodeString(bytes, m.value)
    }

    /// A member's value as an Int, if it is an integer number that fits.
    public func int(_ key: String, in bytes: UnsafeRawBufferPointer) -> Int? {
        guard let m = member(key, in: bytes), m.kind == .number else { return nil }
        return Int(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[m.value]), as: UTF8.self))
    }

    /// A member's value as an Int, saturated: for counts an upstream reports, where a number
    /// beyond Int's range (or 1e308) must pin rather than be dropped or trap. nil when the
    /// member is absent or not a number.
    public func saturatingInt(_ key: String, in bytes: UnsafeRawBufferPointer) -> Int? {
        guard let m = member(key, in: bytes), m.kind == .number else { return nil }
        return JSONScanner.saturatingInt(bytes, m.value)
    }

    /// The first key that occurs twice among the members (decoded, so `"a"` and `"\u0061"`
    /// are the same key), or nil. Linear in the keys' bytes: small objects compare pairwise
    /// (no allocation), larger ones go through a hash set.
    public func duplicateKey(in bytes: UnsafeRawBufferPointer) -> String? {
        if members.count < 2 { return nil }
        if members.count <= 16 && !members.contains(where: \.keyHasEscape) {
            for i in 1..<members.count {
                let a = members[i].key
                for j in 0..<i {
                    let b = members[j].key
                    guard a.count == b.count else { continue }
                    if memcmp(bytes.baseAddress! + a.lowerBound, bytes.baseAddress! + b.lowerBound, a.count) == 0 {
                        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[a]), as: UTF8.self)
                    }
                }
            }
            return nil
        }
        var seen = Set<String>(minimumCapacity: members.count)
        for m in members {
            let key: String
            if m.keyHasEscape {
                key = JSONScanner.decodeString(bytes, (m.key.lowerBound - 1)..<(m.key.upperBound + 1)) ?? ""
            } else {
                key = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[m.key]), as: UTF8.self)
            }
            if !seen.insert(key).inserted { return key }
        }
        return nil
    }
}
