/// Array element ranges, for callers that walk into nested documents (e.g. guardrails
/// visiting `messages[*].content`) without building values.
extension JSONScanner {
    /// One element of a scanned array: its bytes (a string's quotes included) and kind.
    public struct ArrayElement: Sendable, Equatable {
        public var value: Range<Int>
        public var kind: JSONValueKind
    }

    /// Validates the array occupying `range` of `bytes` and returns its elements, with ranges
    /// relative to `bytes`.
    public static func scanArray(_ bytes: UnsafeRawBufferPointer, in range: Range<Int>) throws(JSONScanError) -> [ArrayElement] {
        guard range.lowerBound >= 0, range.upperBound <= bytes.count else {
            throw JSONScanError(offset: range.lowerBound, reason: "range outside the buffer")
        }
        var parser = JSONParser(bytes: bytes, start: range.lowerBound, end: range.upperBound)
        parser.skipWhitespace()
        guard parser.peek() == UInt8(ascii: "[") else { throw JSONScanError(offset: parser.index, reason: "expected a JSON array") }
        parser.index += 1
        var out: [ArrayElement] = []
        parser.skipWhitespace()
        if parser.peek() == UInt8(ascii: "]") {
            parser.index += 1
        } else {
            while true {
                parser.skipWhitespace()
                let start = parser.index
                let kind = try parser.parseValue(depth: 1)
                out.append(ArrayElement(value: start..<parser.index, kind: kind))
                parser.skipWhitespace()
                guard let c = parser.peek() else { throw parser.fail("unexpected end of document") }
                parser.index += 1
                if c == UInt8(ascii: ",") { continue }
                if c == UInt8(ascii: "]") { break }
                throw JSONScanError(offset: parser.index - 1, reason: "expected ',' or ']' in an array")
            }
        }
        parser.skipWhitespace()
        guard parser.atEnd else { throw JSONScanError(offset: parser.index, reason: "trailing characters after the JSON array") }
        return out
    }
}
