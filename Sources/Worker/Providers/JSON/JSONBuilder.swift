import TollgateCore

/// Writes one JSON document into a byte array, for every body the translators build (upstream
/// requests, translated responses, stream events): no Foundation, no intermediate object
/// graph, and values taken from the client's or upstream's body are copied as the bytes they
/// already are (a string literal stays escaped as it was, a schema object is spliced whole).
///
/// Commas are the builder's business: a container starts with `first` set, every value or key
/// after the first one gets a comma, and a value right after its key gets none. Callers only
/// have to balance `begin…`/`end…`.
struct JSONBuilder {
    private(set) var bytes: [UInt8]
    private var first = true
    private var afterKey = false

    init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always)
    private mutating func separate() {
        if afterKey {
            afterKey = false
        } else if !first {
            bytes.append(UInt8(ascii: ","))
        }
        first = false
    }

    mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        first = true
    }

    mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        first = false
        afterKey = false
    }

    mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        first = true
    }

    mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        first = false
        afterKey = false
    }

    /// An object key (the gateway's own names: ASCII, nothing to escape).
    mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    /// An object key from data (escaped as needed).
    mutating func key(_ name: String) {
        separate()
        JSONWriter.appendQuoted(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    mutating func string(_ value: String) {
        separate()
        JSONWriter.appendQuoted(value, to: &bytes)
    }

    /// A string the gateway spells itself (ASCII, nothing to escape).
    mutating func string(_ value: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: value.utf8Start, count: value.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func int(_ value: Int) {
        separate()
        Self.appendDecimal(value, to: &bytes)
    }

    mutating func bool(_ value: Bool) {
        separate()
        if value {
            bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        } else {
            bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        }
    }

    mutating func null() {
        separate()
        bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
    }

    /// A JSON value copied as it is: `range` of `source` must hold exactly one valid value
    /// (a scanned member's value, a string literal with its quotes).
    mutating func raw(_ source: UnsafeRawBufferPointer, _ range: Range<Int>) {
        separate()
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: source[range]))
    }

    /// Bytes that are one valid JSON value (e.g. tool arguments validated as an object).
    mutating func raw<C: Collection>(_ value: C) where C.Element == UInt8 {
        separate()
        bytes.append(contentsOf: value)
    }

    /// One string literal joined from several: the inner text of each literal in `parts`
    /// (ranges into `source`, quotes included), `separator` between them. Valid because the
    /// inside of a JSON string literal can be concatenated as it is; `separator` must be
    /// JSON-escaped already (e.g. `\n\n` spelled as the four bytes `\\n\\n`).
    mutating func joinedString(_ source: UnsafeRawBufferPointer, _ parts: [Range<Int>], separator: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        for (i, part) in parts.enumerated() {
            if i > 0 { bytes.append(contentsOf: UnsafeRawBufferPointer(start: separator.utf8Start, count: separator.utf8CodeUnitCount)) }
            if part.count >= 2 { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: source[(part.lowerBound + 1)..<(part.upperBound - 1)])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Starts a string value whose text is appended piecewise with `stringPiece`, then `endString`.
    mutating func beginString() {
        separate()
        bytes.append(UInt8(ascii: "\""))
    }

    /// The inner text of a string literal (`range` of `source`, quotes included).
    mutating func stringPiece(_ source: UnsafeRawBufferPointer, literal range: Range<Int>) {
        if range.count >= 2 { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: source[(range.lowerBound + 1)..<(range.upperBound - 1)])) }
    }

    /// Text escaped into the open string.
    mutating func stringPiece(_ text: String) {
        var quoted: [UInt8] = []
        JSONWriter.appendQuoted(text, to: &quoted)
        bytes.append(contentsOf: quoted[1..<(quoted.count - 1)])
    }

    /// Already-escaped text into the open string.
    mutating func stringPiece(escaped text: StaticString) {
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func endString() {
        bytes.append(UInt8(ascii: "\""))
    }

    /// `value` in decimal, without going through `String`.
    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value == 0 {
            out.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
        }
        if value < 0 { out.append(UInt8(ascii: "-")) }
        withUnsafeBytes(of: &digits) { buffer in
            var i = count - 1
            while i >= 0 {
                out.append(buffer[i])
                i -= 1
            }
        }
    }
}
