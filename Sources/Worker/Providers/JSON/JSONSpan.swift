import TollgateCore

/// One JSON value inside a scanned body: where it is (a string's quotes included) and what
/// kind it is. Decoded request and response types keep spans instead of copies, so text the
/// gateway only forwards is never decoded, and a translator copies its bytes as they are.
struct JSONSpan: Sendable, Equatable {
    var range: Range<Int>
    var kind: JSONValueKind

    init(_ range: Range<Int>, _ kind: JSONValueKind) {
        self.range = range
        self.kind = kind
    }

    init(_ member: JSONObjectIndex.Member) {
        self.init(member.value, member.kind)
    }

    init(_ element: JSONScanner.ArrayElement) {
        self.init(element.value, element.kind)
    }

    /// An empty string literal (`""`): two bytes.
    var isEmptyString: Bool { kind == .string && range.count == 2 }
}

/// Reading scanned members by name without allocating for the gateway's own short keys.
enum JSONMembers {
    /// The member's key, decoded (keys with escapes are rare; short keys are small strings).
    @inline(__always)
    static func key(_ m: JSONObjectIndex.Member, _ raw: UnsafeRawBufferPointer) -> String {
        if m.keyHasEscape {
            return JSONScanner.decodeString(raw, (m.key.lowerBound - 1)..<(m.key.upperBound + 1)) ?? ""
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: raw[m.key]), as: UTF8.self)
    }

    /// The members of the object at `span`, or nil when it is not an object.
    static func object(_ raw: UnsafeRawBufferPointer, _ span: JSONSpan) -> JSONObjectIndex? {
        guard span.kind == .object else { return nil }
        return try? JSONScanner.scanObject(raw, in: span.range)
    }

    /// The elements of the array at `span`, or nil when it is not an array.
    static func array(_ raw: UnsafeRawBufferPointer, _ span: JSONSpan) -> [JSONScanner.ArrayElement]? {
        guard span.kind == .array else { return nil }
        return try? JSONScanner.scanArray(raw, in: span.range)
    }

    /// The string at `span`, decoded, or nil when it is not a string.
    static func string(_ raw: UnsafeRawBufferPointer, _ span: JSONSpan?) -> String? {
        guard let span, span.kind == .string else { return nil }
        return JSONScanner.decodeString(raw, span.range)
    }

    static func bool(_ raw: UnsafeRawBufferPointer, _ span: JSONSpan?) -> Bool? {
        guard let span, span.kind == .bool else { return nil }
        return raw[span.range.lowerBound] == UInt8(ascii: "t")
    }

    /// The number at `span` as a Double (always finite: the scanner accepted it and huge
    /// literals become ±infinity only past 1e308, which callers range-check).
    static func double(_ raw: UnsafeRawBufferPointer, _ span: JSONSpan?) -> Double? {
        guard let span, span.kind == .number else { return nil }
        return Double(String(decoding: UnsafeRawBufferPointer(rebasing: raw[span.range]), as: UTF8.self))
    }

    /// The number at `span` when it is an integer literal that fits an Int (as JSONSerialization's
    /// `as? Int` read it: `1.0` and `1e3` are not integers here, matching RequestNumbers).
    static func int(_ raw: UnsafeRawBufferPointer, _ span: JSONSpan?) -> Int? {
        guard let span, span.kind == .number else { return nil }
        return Int(String(decoding: UnsafeRawBufferPointer(rebasing: raw[span.range]), as: UTF8.self))
    }

    /// The number at `span` saturated to Int (for counts an upstream reports).
    static func saturatingInt(_ raw: UnsafeRawBufferPointer, _ span: JSONSpan?) -> Int? {
        guard let span, span.kind == .number else { return nil }
        return JSONScanner.saturatingInt(raw, span.range)
    }
}
