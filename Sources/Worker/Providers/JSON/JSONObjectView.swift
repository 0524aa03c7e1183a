import TollgateCore

/// A scanned object read by member name: what the response translators use on each upstream
/// event instead of `JSONSerialization` and `as?` casts. Valid only while `raw` is (inside the
/// `withUnsafeBytes` that produced it); nested objects and arrays are scanned when asked for,
/// and a member of the wrong type reads as absent, as the casts did.
struct JSONObjectView {
    let raw: UnsafeRawBufferPointer
    let index: JSONObjectIndex

    init(raw: UnsafeRawBufferPointer, index: JSONObjectIndex) {
        self.raw = raw
        self.index = index
    }

    /// The whole of `raw` as an object, or nil when it is not one.
    init?(document raw: UnsafeRawBufferPointer) {
        guard let index = try? JSONScanner.scanObject(raw) else { return nil }
        self.init(raw: raw, index: index)
    }

    /// The object at `span` of `raw`, or nil when it is not one.
    init?(_ raw: UnsafeRawBufferPointer, _ span: JSONSpan?) {
        guard let span, let index = JSONMembers.object(raw, span) else { return nil }
        self.init(raw: raw, index: index)
    }

    subscript(_ name: String) -> JSONSpan? {
        index.member(name, in: raw).map(JSONSpan.init)
    }

    func string(_ name: String) -> String? { JSONMembers.string(raw, self[name]) }
    func bool(_ name: String) -> Bool? { JSONMembers.bool(raw, self[name]) }
    /// A count, saturated (as `Usage.count` read a decoded Int or Double).
    func count(_ name: String) -> Int? { JSONMembers.saturatingInt(raw, self[name]) }
    /// An integer index (`as? Int`: integer literals that fit).
    func int(_ name: String) -> Int? { JSONMembers.int(raw, self[name]) }
    func object(_ name: String) -> JSONObjectView? { JSONObjectView(raw, self[name]) }

    /// The member's elements when it is an array of objects only (as `as? [[String: Any]]`).
    func objects(_ name: String) -> [JSONObjectView]? {
        guard let span = self[name], let elements = JSONMembers.array(raw, span) else { return nil }
        var out: [JSONObjectView] = []
        out.reserveCapacity(elements.count)
        for e in elements {
            guard let o = JSONObjectView(raw, JSONSpan(e)) else { return nil }
            out.append(o)
        }
        return out
    }

    /// The member's bytes (a value to copy on), when present.
    func bytes(_ span: JSONSpan) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: raw[span.range])
    }

    /// The member as compact JSON text (whitespace outside strings dropped, key order kept):
    /// how tool inputs become OpenAI's `arguments` string. `{}` when absent or `null`.
    func compactJSON(_ name: String) -> String {
        guard let span = self[name], span.kind != .null else { return "{}" }
        return JSONCompact.text(raw, span.range)
    }
}

/// Minifies a validated JSON value: whitespace between tokens is dropped, strings are copied
/// as they are. Linear, one pass.
enum JSONCompact {
    static func text(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var inString = false
        var escaped = false
        for i in range {
            let c = raw[i]
            if inString {
                out.append(c)
                if escaped {
                    escaped = false
                } else if c == UInt8(ascii: "\\") {
                    escaped = true
                } else if c == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch c {
            case 0x20, 0x0A, 0x0D, 0x09: continue
            case UInt8(ascii: "\""): inString = true
            default: break
            }
            out.append(c)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
