/// Splits a byte stream into Server-Sent Events (`event:` / `data:` fields, blank-line
/// terminated), tolerating events split across reads and CRLF line endings.
struct SSEParser {
    struct Event: Equatable {
        var event: String?
        var data: String
    }

    private var pending: [UInt8] = []

    mutating func feed(_ bytes: some Sequence<UInt8>) -> [Event] {
        pending.append(contentsOf: bytes)
        var events: [Event] = []
        var start = 0
        var i = 0
        var lineStart = 0
        var current = Event(event: nil, data: "")
        var hasData = false
        while i < pending.count {
            if pending[i] == 0x0A {
                var end = i
                if end > lineStart, pending[end - 1] == 0x0D { end -= 1 }
                if end == lineStart {
                    // Blank line: dispatch the event built since `start`.
                    if hasData || current.event != nil { events.append(current) }
                    current = Event(event: nil, data: "")
                    hasData = false
                    start = i + 1
                } else {
                    let line = String(decoding: pending[lineStart..<end], as: UTF8.self)
                    if line.hasPrefix("data:") {
                        let value = line.dropFirst(5).drop(while: { $0 == " " })
                        current.data += (hasData ? "\n" : "") + value
                        hasData = true
                    } else if line.hasPrefix("event:") {
                        current.event = String(line.dropFirst(6).drop(while: { $0 == " " }))
                    }
                }
                lineStart = i + 1
            }
            i += 1
        }
        pending.removeFirst(start)
        return events
    }
}
