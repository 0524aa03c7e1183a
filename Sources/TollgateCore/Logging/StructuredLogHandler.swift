#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// A swift-log handler that writes one line per event to stderr, as JSON lines (for log
/// shippers) or as human-readable text. Every line names the process role and pid so the
/// interleaved output of a supervisor and its children stays attributable.
///
/// Lines are assembled in memory and written with one `write(2)`, so lines from different
/// processes sharing the terminal or journal never interleave mid-line.
public struct StructuredLogHandler: LogHandler {
    public enum Format: String, Sendable, CaseIterable {
        case text
        case json
    }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let format: Format
    private let role: String

    public init(label: String, role: String, format: Format, level: Logger.Level) {
        self.label = label
        self.role = role
        self.format = format
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Installs the handler process-wide. Call once, first thing in `main`.
    public static func bootstrap(role: String, format: Format, level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            StructuredLogHandler(label: label, role: role, format: format, level: level)
        }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let extra = event.metadata {
            merged.merge(extra) { _, new in new }
        }
        let line: String
        switch format {
        case .json:
            line = jsonLine(event: event, metadata: merged)
        case .text:
            line = textLine(event: event, metadata: merged)
        }
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        bytes.withUnsafeBytes { buf in
            var offset = 0
            while offset < buf.count {
                let n = write(2, buf.baseAddress! + offset, buf.count - offset)
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }

    private func jsonLine(event: LogEvent, metadata: Logger.Metadata) -> String {
        var out = "{\"ts\":" + JSONWriter.quoted(Self.timestamp())
        out += ",\"level\":" + JSONWriter.quoted(event.level.rawValue)
        out += ",\"role\":" + JSONWriter.quoted(role)
        out += ",\"pid\":\(getpid())"
        out += ",\"msg\":" + JSONWriter.quoted(event.message.description)
        for key in metadata.keys.sorted() {
            out += "," + JSONWriter.quoted(key) + ":" + Self.json(metadata[key]!)
        }
        out += "}"
        return out
    }

    private func textLine(event: LogEvent, metadata: Logger.Metadata) -> String {
        var out = "\(Self.timestamp()) \(event.level.rawValue.uppercased()) \(role)[\(getpid())] \(event.message)"
        for key in metadata.keys.sorted() {
            out += " \(key)=\(metadata[key]!)"
        }
        return out
    }

    private static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let s): return JSONWriter.quoted(s)
        case .stringConvertible(let c): return JSONWriter.quoted(c.description)
        case .array(let a): return "[" + a.map(json).joined(separator: ",") + "]"
        case .dictionary(let d):
            return "{" + d.keys.sorted().map { JSONWriter.quoted($0) + ":" + json(d[$0]!) }.joined(separator: ",") + "}"
        }
    }

    /// RFC 3339 UTC timestamp with milliseconds.
    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UTCTime.rfc3339(Int(ts.tv_sec), milliseconds: Int(ts.tv_nsec / 1_000_000))
    }
}
