/// Splits a byte stream into Server-Sent Events (`event:` / `data:` fields, blank-line
/// terminated), tolerating events split across reads and CRLF line endings. Works on bytes:
/// it runs for every streamed chunk, so it creates no String unless an `event:` name is present.
struct SSEParser {
    struct Event: Equatable {
        var event: String?
        var data: [UInt8]

        var dataString: String { String(decoding: data, as: UTF8.self) }
        var isDone: Bool { data.count == 6 && data.elementsEqual("[DONE]".utf8) }
    }

    private var pending: [UInt8] = []
    private var current = Event(event: nil, data: [])
    private var hasData = false

    /// True between events: nothing of a partial line or event is held.
    var isAtBoundary: Bool { pending.isEmpty && !hasData && current.event == nil }

    mutating func feed(_ bytes: some Sequence<UInt8>) -> [Event] {
        pending.append(contentsOf: bytes)
        var events: [Event] = []
        var lineStart = 0
        var i = 0
        let count = pending.count
        while i < count {
            if pending[i] == 0x0A {
                var end = i
                if end > lineStart, pending[end - 1] == 0x0D { end -= 1 }
                if end == lineStart {
                    if hasData || current.event != nil { events.append(current) }
                    current = Event(event: nil, data: [])
                    hasData = false
                } else {
                    processLine(lineStart, end)
                }
                lineStart = i + 1
            }
            i += 1
        }
        if lineStart > 0 { pending.removeFirst(lineStart) }
        return events
    }

    private mutating func processLine(_ start: Int, _ end: Int) {
        if Self.hasPrefix(pending, start, end, "data:") {
            var s = start + 5
            if s < end, pending[s] == 0x20 { s += 1 }
            if hasData { current.data.append(0x0A) }
            current.data.append(contentsOf: pending[s..<end])
            hasData = true
        } else if Self.hasPrefix(pending, start, end, "event:") {
            var s = start + 6
            if s < end, pending[s] == 0x20 { s += 1 }
            current.event = String(decoding: pending[s..<end], as: UTF8.self)
        }
    }

    private static func hasPrefix(_ bytes: [UInt8], _ start: Int, _ end: Int, _ prefix: StaticString) -> Bool {
        let n = prefix.utf8CodeUnitCount
        guard end - start >= n else { return false }
        let p = prefix.utf8Start
        for k in 0..<n where bytes[start + k] != p[k] { return false }
        return true
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs (a plain byte search; needles here are a few bytes long).
    func containsBytes(_ needle: StaticString) -> Bool {
        let n = needle.utf8CodeUnitCount
        guard n > 0, count >= n else { return false }
        let p = needle.utf8Start
        let first = p[0]
        var i = 0
        while i <= count - n {
            if self[i] == first {
                var k = 1
                while k < n && self[i + k] == p[k] { k += 1 }
                if k == n { return true }
            }
            i += 1
        }
        return false
    }
}
