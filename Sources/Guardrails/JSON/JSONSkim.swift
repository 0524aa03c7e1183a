#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TollgateCore

/// Members and elements of one object or array inside a body that `JSONScanner` has already
/// validated as a whole: found by skimming (strings skipped to their closing quote, nested
/// values by bracket depth) instead of validating every nested level again, which made the
/// text walk of a 100 KB agent request parse each string three or four times.
///
/// Only for validated bytes: on anything else it never traps or loops (every step advances,
/// every index is bounds-checked) but its answer is unspecified, so callers validate first.
enum JSONSkim {
    /// One member: the key's raw bytes (no quotes), the value's bytes (a string's quotes
    /// included), as `JSONObjectIndex.Member` has them.
    struct Member {
        var key: Range<Int>
        var value: Range<Int>
        var kind: JSONValueKind
        var keyHasEscape: Bool
    }

    /// One array element.
    struct Element {
        var value: Range<Int>
        var kind: JSONValueKind
    }

    /// An object's members, with the same ranges and kinds `JSONScanner.scanObject` reports.
    struct Object {
        var members: [Member] = []

        init(members: [Member] = []) {
            self.members = members
        }

        /// The members of an index `JSONScanner` built (the validated top level).
        init(_ index: JSONObjectIndex) {
            members = index.members.map { Member(key: $0.key, value: $0.value, kind: $0.kind, keyHasEscape: $0.keyHasEscape) }
        }

        /// The member named `key`, the last one when a key repeats (as `JSONObjectIndex`).
        func member(_ key: StaticString, in bytes: UnsafeRawBufferPointer) -> Member? {
            let wanted = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
            var found: Member?
            for m in members {
                if m.keyHasEscape {
                    let quoted = (m.key.lowerBound - 1)..<(m.key.upperBound + 1)
                    if let decoded = JSONScanner.decodeString(bytes, quoted), decoded.utf8.elementsEqual(wanted) { found = m }
                    continue
                }
                guard m.key.count == wanted.count else { continue }
                if bytes[m.key].elementsEqual(wanted) { found = m }
            }
            return found
        }

        /// The member's value when it is a string, decoded.
        func string(_ key: StaticString, in bytes: UnsafeRawBufferPointer) -> String? {
            guard let m = member(key, in: bytes), m.kind == .string else { return nil }
            return JSONScanner.decodeString(bytes, m.value)
        }
    }

    /// The object at `range` (whitespace around it allowed), or nil when it is not one.
    static func object(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Object? {
        var i = skipSpace(bytes, range.lowerBound, range.upperBound)
        let end = range.upperBound
        guard i < end, bytes[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        var object = Object()
        while true {
            i = skipSpace(bytes, i, end)
            guard i < end else { return nil }
            if bytes[i] == UInt8(ascii: "}") { return object }
            if bytes[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard bytes[i] == UInt8(ascii: "\"") else { return nil }
            let (keyEnd, keyEscaped) = skipString(bytes, i, end)
            guard keyEnd <= end, keyEnd - 1 > i else { return nil }
            let key = (i + 1)..<(keyEnd - 1)
            i = skipSpace(bytes, keyEnd, end)
            guard i < end, bytes[i] == UInt8(ascii: ":") else { return nil }
            i = skipSpace(bytes, i + 1, end)
            guard i < end else { return nil }
            let (valueEnd, kind) = skipValue(bytes, i, end)
            guard valueEnd > i else { return nil }
            object.members.append(Member(key: key, value: i..<valueEnd, kind: kind, keyHasEscape: keyEscaped))
            i = valueEnd
        }
    }

    /// The elements of the array at `range`, or [] when it is not one.
    static func elements(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> [Element] {
        var i = skipSpace(bytes, range.lowerBound, range.upperBound)
        let end = range.upperBound
        guard i < end, bytes[i] == UInt8(ascii: "[") else { return [] }
        i += 1
        var out: [Element] = []
        while true {
            i = skipSpace(bytes, i, end)
            guard i < end else { return out }
            if bytes[i] == UInt8(ascii: "]") { return out }
            if bytes[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            let (valueEnd, kind) = skipValue(bytes, i, end)
            guard valueEnd > i else { return out }
            out.append(Element(value: i..<valueEnd, kind: kind))
            i = valueEnd
        }
    }

    @inline(__always)
    static func skipSpace(_ bytes: UnsafeRawBufferPointer, _ from: Int, _ end: Int) -> Int {
        var i = from
        while i < end {
            let c = bytes[i]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { break }
            i += 1
        }
        return i
    }

    /// The index after the string starting at the quote at `from`, and whether it has an
    /// escape (`end + 1` when unterminated). `memchr` finds each quote; a quote after an odd
    /// run of backslashes is escaped (each backslash is counted once: linear).
    @inline(__always)
    static func skipString(_ bytes: UnsafeRawBufferPointer, _ from: Int, _ end: Int) -> (Int, Bool) {
        guard let base = bytes.baseAddress, from + 1 <= end else { return (end + 1, false) }
        var i = from + 1
        while i < end {
            guard let hit = memchr(base + i, 0x22, end - i) else { break }
            let q = base.distance(to: UnsafeRawPointer(hit))
            var k = q
            while k > from + 1, bytes[k - 1] == UInt8(ascii: "\\") { k -= 1 }
            if (q - k) % 2 == 0 {
                let escaped = memchr(base + from + 1, 0x5C, q - from - 1) != nil
                return (q + 1, escaped)
            }
            i = q + 1
        }
        return (end + 1, true)
    }

    /// The index after the value starting at `from` and its kind (`from` when there is none).
    static func skipValue(_ bytes: UnsafeRawBufferPointer, _ from: Int, _ end: Int) -> (Int, JSONValueKind) {
        let c = bytes[from]
        switch c {
        case UInt8(ascii: "\""):
            let (e, _) = skipString(bytes, from, end)
            return e <= end ? (e, .string) : (from, .string)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var i = from
            while i < end {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    let (e, _) = skipString(bytes, i, end)
                    guard e <= end else { return (from, .null) }
                    i = e
                    continue
                }
                if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") {
                    depth += 1
                } else if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 { return (i + 1, c == UInt8(ascii: "{") ? .object : .array) }
                }
                i += 1
            }
            return (from, .null)
        default:
            // Number, true, false, null: up to the next delimiter.
            var i = from
            while i < end {
                let b = bytes[i]
                if b == UInt8(ascii: ",") || b == UInt8(ascii: "}") || b == UInt8(ascii: "]") || b == 0x20 || b == 0x0A
                    || b == 0x0D || b == 0x09 { break }
                i += 1
            }
            let kind: JSONValueKind = c == UInt8(ascii: "t") || c == UInt8(ascii: "f") ? .bool : (c == UInt8(ascii: "n") ? .null : .number)
            return (i, kind)
        }
    }
}
