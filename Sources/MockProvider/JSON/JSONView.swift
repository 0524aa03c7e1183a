import TollgateCore

/// A value inside a JSON document that `JSONScanner` validated: where it is and what it is.
struct JSONValue: Equatable {
    var range: Range<Int>
    var kind: JSONValueKind

    /// How OpenAI names a JSON type in its "expected …, but got … instead" messages.
    var kindDescription: String {
        switch kind {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }
}

/// Read-only navigation of a validated JSON document without building Foundation objects:
/// objects through `JSONScanner`'s member index, arrays by walking their top-level elements.
/// The request bodies the mock reads are parsed once this way; a `JSONView` is valid only
/// inside the `withUnsafeReadableBytes` call that lent it its bytes.
struct JSONView {
    let bytes: UnsafeRawBufferPointer

    /// Validates the whole document and returns its top-level object.
    func root() throws(JSONScanError) -> JSONObjectIndex {
        try JSONScanner.scanObject(bytes)
    }

    /// The members of the object `value` (nil when it is not an object).
    func object(_ value: JSONValue?) -> JSONObjectIndex? {
        guard let value, value.kind == .object else { return nil }
        return try? JSONScanner.scanObject(bytes, in: value.range)
    }

    /// The member `key` of `object`.
    func member(_ key: String, of object: JSONObjectIndex?) -> JSONValue? {
        guard let m = object?.member(key, in: bytes) else { return nil }
        return JSONValue(range: m.value, kind: m.kind)
    }

    /// The decoded string `value` (nil when it is not a string).
    func string(_ value: JSONValue?) -> String? {
        guard let value, value.kind == .string else { return nil }
        return JSONScanner.decodeString(bytes, value.range)
    }

    /// The integer `value` (nil when it is not a number or not an integer that fits).
    func int(_ value: JSONValue?) -> Int? {
        guard let value, value.kind == .number else { return nil }
        return Int(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[value.range]), as: UTF8.self))
    }

    /// The boolean `value` (nil when it is not `true` or `false`).
    func bool(_ value: JSONValue?) -> Bool? {
        guard let value, value.kind == .bool else { return nil }
        return bytes[value.range.lowerBound] == UInt8(ascii: "t")
    }

    /// The string content's length in bytes as sent (escapes counted as written): enough to
    /// estimate tokens without decoding.
    func rawStringLength(_ value: JSONValue) -> Int {
        value.kind == .string ? max(0, value.range.count - 2) : value.range.count
    }

    /// The `text` members of the objects in the array `parts` (content parts, blocks), joined
    /// by spaces; with `typed`, only parts whose `type` is `text` count.
    func joinedText(of parts: JSONValue?, typed: Bool) -> String {
        var texts: [String] = []
        forEachElement(parts) { part in
            let object = self.object(part)
            if typed && string(member("type", of: object)) != "text" { return }
            if let text = string(member("text", of: object)) { texts.append(text) }
        }
        return texts.joined(separator: " ")
    }

    /// The elements of the array `value`, in order (empty when it is not an array).
    func elements(_ value: JSONValue?) -> [JSONValue] {
        var out: [JSONValue] = []
        forEachElement(value) { out.append($0) }
        return out
    }

    /// Calls `body` with each element of the array `value`. The document was validated, so
    /// only nesting and string literals need tracking to find where each element ends.
    func forEachElement(_ value: JSONValue?, _ body: (JSONValue) -> Void) {
        guard let value, value.kind == .array, value.range.count >= 2 else { return }
        let end = value.range.upperBound - 1
        var i = value.range.lowerBound + 1
        while i < end {
            while i < end, Self.isWhitespace(bytes[i]) { i += 1 }
            guard i < end else { return }
            let start = i
            var depth = 0
            var inString = false
            scan: while i < end {
                let b = bytes[i]
                if inString {
                    if b == UInt8(ascii: "\\") {
                        i += 2
                        continue
                    }
                    if b == UInt8(ascii: "\"") { inString = false }
                    i += 1
                    continue
                }
                switch b {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                case UInt8(ascii: ","): if depth == 0 { break scan }
                default: break
                }
                i += 1
            }
            var stop = min(i, end)
            while stop > start, Self.isWhitespace(bytes[stop - 1]) { stop -= 1 }
            if stop > start { body(JSONValue(range: start..<stop, kind: Self.kind(of: bytes[start]))) }
            i += 1
        }
    }

    private static func isWhitespace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09
    }

    private static func kind(of first: UInt8) -> JSONValueKind {
        switch first {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        default: return .number
        }
    }
}
