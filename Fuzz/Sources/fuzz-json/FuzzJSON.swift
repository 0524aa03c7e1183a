import FuzzSupport
import TollgateCore

/// JSONScanner / JSONParser: whatever the bytes, scanning never traps, and an accepted object
/// keeps its invariants: member ranges lie in the buffer in document order, every value is a
/// valid document on its own, nested objects and arrays rescan, strings decode and survive a
/// JSONWriter round trip, `member(_:)` finds the last duplicate, and re-serialising the
/// decoded keys with the raw values scans back to the same members.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let raw = UnsafeRawBufferPointer(start: data, count: size)
    let validates = (try? JSONScanner.validate(raw)) != nil
    let index: JSONObjectIndex
    do {
        index = try JSONScanner.scanObject(raw)
    } catch {
        fuzzCheck(error.offset >= 0 && error.offset <= size, "error offset \(error.offset) outside 0...\(size)")
        if validates, let first = raw.first(where: { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }) {
            fuzzCheck(first != UInt8(ascii: "{"), "validate accepts an object that scanObject refuses: \(error)")
        }
        return 0
    }
    fuzzCheck(validates, "scanObject accepts what validate refuses")
    var rebuilt: [UInt8] = [UInt8(ascii: "{")]
    var keys: [String] = []
    var previousEnd = 0
    for m in index.members {
        fuzzCheck(m.key.lowerBound >= 1 && m.key.upperBound < m.value.lowerBound && m.value.upperBound <= size,
                  "member ranges out of order or bounds: key \(m.key) value \(m.value) size \(size)")
        fuzzCheck(m.key.lowerBound > previousEnd, "members overlap")
        previousEnd = m.value.upperBound
        let quotedKey = (m.key.lowerBound - 1)..<(m.key.upperBound + 1)
        guard let key = JSONScanner.decodeString(raw, quotedKey) else {
            fuzzCheck(false, "an accepted key does not decode")
            return 0
        }
        fuzzCheck(m.keyHasEscape == raw[m.key].contains(UInt8(ascii: "\\")), "keyHasEscape is wrong")
        let value = UnsafeRawBufferPointer(rebasing: raw[m.value])
        fuzzCheck((try? JSONScanner.validate(value)) != nil, "a member value is not a document on its own")
        switch m.kind {
        case .string:
            guard let s = JSONScanner.decodeString(raw, m.value) else {
                fuzzCheck(false, "an accepted string value does not decode")
                return 0
            }
            let requoted = Array(JSONWriter.quoted(s).utf8)
            let again = requoted.withUnsafeBytes { JSONScanner.decodeString($0, 0..<requoted.count) }
            fuzzCheck(again == s, "JSONWriter.quoted does not round-trip \(s.debugDescription)")
            fuzzCheck(index.string(key, in: raw) != nil || index.member(key, in: raw) != m, "string(_:) misses a string member")
        case .object:
            fuzzCheck((try? JSONScanner.scanObject(raw, in: m.value)) != nil, "a nested object does not rescan")
        case .array:
            guard let elements = try? JSONScanner.scanArray(raw, in: m.value) else {
                fuzzCheck(false, "a nested array does not rescan")
                return 0
            }
            var last = m.value.lowerBound
            for e in elements {
                fuzzCheck(e.value.lowerBound > last && e.value.upperBound < m.value.upperBound, "array element outside its array")
                last = e.value.upperBound
            }
        case .number:
            _ = index.int(key, in: raw)
        case .bool:
            fuzzCheck(index.member(key, in: raw) != m || index.bool(key, in: raw) != nil, "bool(_:) misses a bool member")
        case .null:
            fuzzCheck(value.elementsEqual("null".utf8), "a null member is not null")
        }
        if rebuilt.count > 1 { rebuilt.append(UInt8(ascii: ",")) }
        JSONWriter.appendQuoted(key, to: &rebuilt)
        rebuilt.append(UInt8(ascii: ":"))
        rebuilt += value
        keys.append(key)
    }
    rebuilt.append(UInt8(ascii: "}"))
    // Duplicate keys: the last occurrence wins (bounded, the check is quadratic).
    if index.members.count <= 64 {
        for key in Set(keys) {
            let last = index.members[keys.lastIndex(of: key)!]
            fuzzCheck(index.member(key, in: raw) == last, "member(\(key.debugDescription)) is not the last duplicate")
        }
    }
    guard let again = try? JSONScanner.scanObject(rebuilt) else {
        fuzzCheck(false, "the re-serialised object does not scan: \(String(decoding: rebuilt, as: UTF8.self))")
        return 0
    }
    fuzzCheck(again.members.count == index.members.count, "re-serialising changed the member count")
    rebuilt.withUnsafeBytes { r in
        for (m, key) in zip(again.members, keys) {
            fuzzCheck(JSONScanner.decodeString(r, (m.key.lowerBound - 1)..<(m.key.upperBound + 1)) == key, "a key changed in the round trip")
        }
    }
    return 0
}
