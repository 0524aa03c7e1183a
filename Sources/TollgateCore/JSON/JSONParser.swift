/// The recursive-descent core of `JSONScanner`: validates as it goes and reports the first
/// violation with its offset. Internal; all state is two integers.
struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    var index: Int
    let end: Int

    init(bytes: UnsafeRawBufferPointer, start: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.index = start
        self.end = end ?? bytes.count
    }

    var atEnd: Bool { index >= end }

    @inline(__always)
    func peek() -> UInt8? { index < end ? bytes[index] : nil }

    @inline(__always)
    mutating func skipWhitespace() {
        while index < end {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    func fail(_ reason: String) -> JSONScanError {
        JSONScanError(offset: index, reason: reason)
    }

    func unexpected() -> JSONScanError {
        guard index < end else { return fail("unexpected end of document") }
        let c = bytes[index]
        if c >= 0x20 && c < 0x7F {
            return fail("unexpected character '\(Character(Unicode.Scalar(c)))'")
        }
        return fail("unexpected byte 0x\(String(c, radix: 16))")
    }

    mutating func parseValue(depth: Int) throws(JSONScanError) -> JSONValueKind {
        guard index < end else { throw fail("unexpected end of document") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            var ignored: [JSONObjectIndex.Member]? = nil
            try parseObjectMembers(depth: depth + 1, record: &ignored)
            return .object
        case UInt8(ascii: "["):
            try parseArray(depth: depth + 1)
            return .array
        case UInt8(ascii: "\""):
            _ = try parseString()
            return .string
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try parseNumber()
            return .number
        default:
            throw unexpected()
        }
    }

    mutating func parseObject(depth: Int, record members: inout [JSONObjectIndex.Member]) throws(JSONScanError) {
        var optional: [JSONObjectIndex.Member]? = members
        try parseObjectMembers(depth: depth, record: &optional)
        members = optional ?? []
    }

    /// Parses `{ … }` at `index`; records members when `record` is non-nil.
    mutating func parseObjectMembers(depth: Int, record: inout [JSONObjectIndex.Member]?) throws(JSONScanError) {
        guard depth <= JSONScanner.maxDepth else { throw fail("nesting deeper than \(JSONScanner.maxDepth)") }
        index += 1
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw index < end ? fail("expected a string key") : fail("unexpected end of document") }
            let keyStart = index
            let keyHasEscape = try parseString()
            let keyRange = (keyStart + 1)..<(index - 1)
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw index < end ? fail("expected ':' after an object key") : fail("unexpected end of document") }
            index += 1
            skipWhitespace()
            let valueStart = index
            let kind = try parseValue(depth: depth)
            if record != nil {
                record!.append(JSONObjectIndex.Member(key: keyRange, value: valueStart..<index, kind: kind, keyHasEscape: keyHasEscape))
            }
            skipWhitespace()
            guard let c = peek() else { throw fail("unexpected end of document") }
            if c == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if c == UInt8(ascii: "}") {
                index += 1
                return
            }
            throw fail("expected ',' or '}' in an object")
        }
    }

    mutating func parseArray(depth: Int) throws(JSONScanError) {
        guard depth <= JSONScanner.maxDepth else { throw fail("nesting deeper than \(JSONScanner.maxDepth)") }
        index += 1
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            _ = try parseValue(depth: depth)
            skipWhitespace()
            guard let c = peek() else { throw fail("unexpected end of document") }
            if c == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if c == UInt8(ascii: "]") {
                index += 1
                return
            }
            throw fail("expected ',' or ']' in an array")
        }
    }

    /// Parses a string literal at `index` (which is a quote). Returns whether it had escapes.
    mutating func parseString() throws(JSONScanError) -> Bool {
        index += 1
        var hadEscape = false
        while index < end {
            let c = bytes[index]
            if c == UInt8(ascii: "\"") {
                index += 1
                return hadEscape
            }
            if c == UInt8(ascii: "\\") {
                hadEscape = true
                try parseEscape()
                continue
            }
            if c < 0x20 {
                throw fail("control character in string (must be escaped)")
            }
            if c < 0x80 {
                index += 1
                continue
            }
            try parseUTF8Sequence(lead: c)
        }
        throw fail("unterminated string")
    }

    private mutating func parseEscape() throws(JSONScanError) {
        guard index + 1 < end else { throw fail("unterminated string") }
        let e = bytes[index + 1]
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
             UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 2
        case UInt8(ascii: "u"):
            guard let unit = JSONScanner.hex4(bytes, index + 2, end) else { throw fail("invalid \\u escape") }
            index += 6
            if (0xD800...0xDBFF).contains(unit) {
                guard index + 6 <= end, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
                      let low = JSONScanner.hex4(bytes, index + 2, end), (0xDC00...0xDFFF).contains(low) else {
                    throw fail("lone high surrogate in \\u escape (no valid UTF-8 for it)")
                }
                index += 6
            } else if (0xDC00...0xDFFF).contains(unit) {
                throw fail("lone low surrogate in \\u escape (no valid UTF-8 for it)")
            }
        default:
            throw fail("invalid escape")
        }
    }

    /// Validates one multi-byte UTF-8 sequence: no overlongs, no surrogates, nothing above U+10FFFF.
    private mutating func parseUTF8Sequence(lead: UInt8) throws(JSONScanError) {
        let length: Int
        var minSecond: UInt8 = 0x80
        var maxSecond: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; minSecond = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; maxSecond = 0x9F
        case 0xF0: length = 4; minSecond = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; maxSecond = 0x8F
        default: throw fail("invalid UTF-8")
        }
        guard index + length <= end else { throw fail("invalid UTF-8 (truncated sequence)") }
        let second = bytes[index + 1]
        guard second >= minSecond && second <= maxSecond else { throw fail("invalid UTF-8") }
        var k = 2
        while k < length {
            let c = bytes[index + k]
            guard c & 0xC0 == 0x80 else { throw fail("invalid UTF-8") }
            k += 1
        }
        index += length
    }

    mutating func parseNumber() throws(JSONScanError) {
        if bytes[index] == UInt8(ascii: "-") {
            index += 1
        }
        guard let first = peek(), first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9") else {
            throw fail("invalid number")
        }
        if first == UInt8(ascii: "0") {
            index += 1
            if let c = peek(), c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
                throw fail("invalid number (leading zero)")
            }
        } else {
            skipDigits()
        }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard let c = peek(), c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { throw fail("invalid number (no digit after '.')") }
            skipDigits()
        }
        if let c = peek(), c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            index += 1
            if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") {
                index += 1
            }
            guard let d = peek(), d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") else { throw fail("invalid number (empty exponent)") }
            skipDigits()
        }
    }

    @inline(__always)
    private mutating func skipDigits() {
        while index < end, bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9") {
            index += 1
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONScanError) {
        let n = word.utf8CodeUnitCount
        guard index + n <= end else { throw fail("invalid literal") }
        let w = word.utf8Start
        for k in 0..<n where bytes[index + k] != w[k] {
            throw fail("invalid literal")
        }
        index += n
    }
}
