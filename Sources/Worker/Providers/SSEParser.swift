#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits a byte stream into Server-Sent Events (`event:` / `data:` fields, blank-line
/// terminated), tolerating events split across reads and CRLF line endings. Works on bytes:
/// it runs for every streamed chunk, so it creates no String unless an `event:` name is present.
///
/// Linear in the bytes fed, whatever the upstream sends: a read only scans its own bytes for
/// line ends (the held partial line is never rescanned), and a line or an event's data longer
/// than `maxLineBytes` (`limits.max_sse_line_bytes`) fails the stream instead of growing
/// without bound. After a failure every feed throws the same error and holds nothing.
struct SSEParser {
    /// Default for `limits.max_sse_line_bytes`.
    static let defaultMaxLineBytes = 4 * 1024 * 1024

    struct Event: Equatable {
        var event: String?
        var data: [UInt8]

        var dataString: String { String(decoding: data, as: UTF8.self) }
        var isDone: Bool { data.count == 6 && data.elementsEqual("[DONE]".utf8) }
    }

    /// Why the stream cannot be parsed on.
    enum Failure: Error, Equatable, CustomStringConvertible {
        case lineTooLong(limit: Int)

        var description: String {
            switch self {
            case .lineTooLong(let limit):
                return "an event-stream line or event exceeds \(limit) bytes (limits.max_sse_line_bytes)"
            }
        }
    }

    let maxLineBytes: Int
    /// The partial line carried over from earlier reads (never contains a line feed).
    private var pending: [UInt8] = []
    private var current = Event(event: nil, data: [])
    private var hasData = false
    private var failure: Failure?

    init(maxLineBytes: Int = SSEParser.defaultMaxLineBytes) {
        self.maxLineBytes = max(1, maxLineBytes)
    }

    /// True between events: nothing of a partial line or event is held.
    var isAtBoundary: Bool { pending.isEmpty && !hasData && current.event == nil && failure == nil }

    mutating func feed(_ bytes: some Collection<UInt8>) throws(Failure) -> [Event] {
        if let failure { throw failure }
        var events: [Event] = []
        let result: Failure? = bytes.withContiguousStorageIfAvailable { chunk -> Failure? in
            feed(UnsafeRawBufferPointer(chunk), into: &events)
        } ?? {
            let copy = Array(bytes)
            return copy.withUnsafeBytes { feed($0, into: &events) }
        }()
        if let result {
            failure = result
            pending = []
            current = Event(event: nil, data: [])
            hasData = false
            throw result
        }
        return events
    }

    private mutating func feed(_ chunk: UnsafeRawBufferPointer, into events: inout [Event]) -> Failure? {
        guard let base = chunk.baseAddress, !chunk.isEmpty else { return nil }
        var start = 0
        while start < chunk.count {
            guard let hit = memchr(base + start, 0x0A, chunk.count - start) else {
                // No line end in the rest: hold it, within the cap.
                if pending.count + (chunk.count - start) > maxLineBytes { return .lineTooLong(limit: maxLineBytes) }
                pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[start...]))
                return nil
            }
            let lineEnd = base.distance(to: UnsafeRawPointer(hit))
            if pending.isEmpty {
                if lineEnd - start > maxLineBytes { return .lineTooLong(limit: maxLineBytes) }
                if let f = line(UnsafeRawBufferPointer(rebasing: chunk[start..<lineEnd]), into: &events) { return f }
            } else {
                if pending.count + (lineEnd - start) > maxLineBytes { return .lineTooLong(limit: maxLineBytes) }
                pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[start..<lineEnd]))
                let whole = pending
                pending.removeAll(keepingCapacity: whole.count <= 64 * 1024)
                if let f = whole.withUnsafeBytes({ line($0, into: &events) }) { return f }
            }
            start = lineEnd + 1
        }
        return nil
    }

    /// One complete line (without its line feed).
    private mutating func line(_ raw: UnsafeRawBufferPointer, into events: inout [Event]) -> Failure? {
        var end = raw.count
        if end > 0, raw[end - 1] == 0x0D { end -= 1 }
        if end == 0 {
            if hasData || current.event != nil { events.append(current) }
            current = Event(event: nil, data: [])
            hasData = false
            return nil
        }
        if Self.hasPrefix(raw, end, "data:") {
            var s = 5
            if s < end, raw[s] == 0x20 { s += 1 }
            if current.data.count + (end - s) + 1 > maxLineBytes { return .lineTooLong(limit: maxLineBytes) }
            if hasData { current.data.append(0x0A) }
            current.data.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[s..<end]))
            hasData = true
        } else if Self.hasPrefix(raw, end, "event:") {
            var s = 6
            if s < end, raw[s] == 0x20 { s += 1 }
            current.event = String(decoding: UnsafeRawBufferPointer(rebasing: raw[s..<end]), as: UTF8.self)
        }
        return nil
    }

    private static func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ end: Int, _ prefix: StaticString) -> Bool {
        let n = prefix.utf8CodeUnitCount
        guard end >= n else { return false }
        let p = prefix.utf8Start
        for k in 0..<n where bytes[k] != p[k] { return false }
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
