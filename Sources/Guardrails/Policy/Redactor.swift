/// Rewrites a text with each redacted span replaced by `[REDACTED:<TYPE>]`, every other byte
/// kept as it was.
public enum Redactor {
    /// A span to replace and its label.
    public struct Span: Sendable, Equatable {
        public var range: Range<Int>
        public var type: String
        public init(range: Range<Int>, type: String) {
            self.range = range
            self.type = type
        }
    }

    /// Merges overlapping or touching-inside spans into one: the union of their ranges,
    /// labelled with the type of the longest of them (a card number that also looks like a
    /// phone number is a CREDIT_CARD), the earliest on a tie.
    public static func merge(_ spans: [Span]) -> [Span] {
        guard !spans.isEmpty else { return [] }
        let sorted = spans.sorted { $0.range.lowerBound != $1.range.lowerBound ? $0.range.lowerBound < $1.range.lowerBound : $0.range.count > $1.range.count }
        var out: [Span] = []
        var current = sorted[0]
        var longest = sorted[0].range.count
        for s in sorted.dropFirst() {
            if s.range.lowerBound < current.range.upperBound {
                if s.range.count > longest {
                    longest = s.range.count
                    current.type = s.type
                }
                current.range = current.range.lowerBound..<max(current.range.upperBound, s.range.upperBound)
            } else {
                out.append(current)
                current = s
                longest = s.range.count
            }
        }
        out.append(current)
        return out
    }

    /// `text` with the (merged) spans replaced.
    public static func apply(_ spans: [Span], to text: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        let merged = merge(spans)
        var out: [UInt8] = []
        out.reserveCapacity(text.count + merged.count * 16)
        var cursor = 0
        for s in merged {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: text[cursor..<s.range.lowerBound]))
            out.append(contentsOf: label(s.type))
            cursor = s.range.upperBound
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: text[cursor..<text.count]))
        return out
    }

    public static func label(_ type: String) -> [UInt8] {
        Array("[REDACTED:\(type)]".utf8)
    }
}
