import NIOHTTP1

/// How one request bends the mock, from `x-mock-*` headers or from `+key=value` suffixes on
/// the model name. The suffixes exist because a gateway rewrites model names: a route can
/// inject faults through the upstream model it names (`mock-small+fault=503+retry_after=2`),
/// and the reply's `model` is the name without them. Headers win over suffixes.
///
/// | suffix | header | meaning |
/// |---|---|---|
/// | `latency=MS` | `x-mock-latency-ms` | wait this long before the response head |
/// | `tps=N` | `x-mock-tokens-per-second` | pace stream events at N per second (default: all at once) |
/// | `tokens=N` | `x-mock-output-tokens` | reply length (default 16; capped by `max_tokens`) |
/// | `fault=F` | `x-mock-fault` | `429`, `500`, `502`, `503`, `reset`, `hang`, `midstream` |
/// | `retry_after=S` | `x-mock-retry-after` | `retry-after` of a 429 (default 1) or 503 (none by default) |
/// | `echo` | `x-mock-echo: true` | reply with the text of the last user message |
/// | `tool` | `x-mock-tool: true` | reply with a call of the request's first tool |
/// | `retry_after_raw=V` | `x-mock-retry-after-raw` | send this `retry-after` value verbatim (any text: `1e17`, `inf`, `-5`) |
/// | `retry_after_ms_raw=V` | `x-mock-retry-after-ms-raw` | send this `retry-after-ms` value verbatim |
/// | `usage_raw=N` | `x-mock-usage-raw` | a JSON number literal (`1e308`, `-5`, `9223372036854775807`) written for every token count of the reply's usage (OpenAI, Anthropic, Gemini, Bedrock) |
/// | `hostile_headers` | `x-mock-hostile-headers: true` | add headers a gateway must not pass on: `server`, `openai-organization`, `x-ratelimit-*`, a spoofed `x-tollgate-cost-usd`, and `x-hop` named in `connection` |
///
/// Unknown keys and malformed values are refused (400) rather than ignored: a typo in a fault
/// injection must not pass for a healthy upstream.
struct MockControls: Equatable, Sendable {
    enum Fault: String, Equatable, Sendable, CaseIterable {
        case rateLimited = "429"
        case internalError = "500"
        case badGateway = "502"
        case unavailable = "503"
        /// Read the request, then close with a TCP RST (SO_LINGER 0).
        case reset
        /// Read the request and never answer; the connection stays open.
        case hang
        /// Start the response, then reset the connection part way through it.
        case midstream
    }

    static let defaultOutputTokens = 16
    static let maxOutputTokens = 100_000
    static let maxLatencyMs = 600_000
    static let maxRetryAfterSeconds = 86_400

    var latencyMs = 0
    /// 0: unpaced, every event written at once.
    var tokensPerSecond = 0
    var outputTokens = MockControls.defaultOutputTokens
    var fault: Fault?
    /// nil when not given: a 429 then says 1 s, a 503 says nothing.
    var retryAfterSeconds: Int?
    var echo = false
    var tool = false
    var retryAfterRaw: String?
    var retryAfterMsRaw: String?
    /// A JSON number literal, validated.
    var usageRaw: String?
    var hostileHeaders = false

    /// Splits `model` into its bare name and its `+key=value` controls, then applies the
    /// `x-mock-*` headers.
    static func parse(model: String, headers: HTTPHeaders) throws(MockControlError) -> (controls: MockControls, model: String) {
        var controls = MockControls()
        var base = model
        if let plus = model.firstIndex(of: "+") {
            base = String(model[..<plus])
            for part in model[model.index(after: plus)...].split(separator: "+", omittingEmptySubsequences: false) {
                let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                try controls.apply(key: String(kv[0]), value: kv.count > 1 ? String(kv[1]) : nil, source: "model suffix '+\(part)'")
            }
        }
        for (name, value) in headers where Self.isControlHeader(name) {
            let key = String(name.lowercased().dropFirst(Self.headerPrefix.count))
            try controls.apply(key: key, value: value, source: "header '\(name)'")
        }
        return (controls, base)
    }

    private static let headerPrefix = "x-mock-"

    /// `x-mock-…`, compared without allocating (this runs for every header of every request).
    private static func isControlHeader(_ name: String) -> Bool {
        let utf8 = name.utf8
        guard utf8.count > headerPrefix.utf8.count else { return false }
        var i = utf8.startIndex
        for p in headerPrefix.utf8 {
            var b = utf8[i]
            if b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") { b |= 0x20 }
            guard b == p else { return false }
            i = utf8.index(after: i)
        }
        return true
    }

    private mutating func apply(key rawKey: String, value: String?, source: String) throws(MockControlError) {
        let key = String(rawKey.lowercased().map { $0 == "_" ? "-" : $0 })
        func integer(_ range: ClosedRange<Int>) throws(MockControlError) -> Int {
            guard let value, let n = Int(value), range.contains(n) else {
                throw MockControlError("\(source): '\(key)' needs an integer in \(range.lowerBound)...\(range.upperBound), got \(value.map { "'\($0)'" } ?? "nothing")")
            }
            return n
        }
        func flag() throws(MockControlError) -> Bool {
            switch value?.lowercased() {
            case nil, "", "true", "1", "yes": return true
            case "false", "0", "no": return false
            default: throw MockControlError("\(source): '\(key)' is a flag (true or false), got '\(value ?? "")'")
            }
        }
        switch key {
        case "latency", "latency-ms": latencyMs = try integer(0...Self.maxLatencyMs)
        case "tps", "tokens-per-second": tokensPerSecond = try integer(0...1_000_000)
        case "tokens", "output-tokens": outputTokens = try integer(0...Self.maxOutputTokens)
        case "retry-after": retryAfterSeconds = try integer(0...Self.maxRetryAfterSeconds)
        case "retry-after-raw", "retry-after-ms-raw":
            guard let value, !value.isEmpty, value.utf8.count <= 64, value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
                throw MockControlError("\(source): '\(key)' needs 1 to 64 printable characters")
            }
            if key == "retry-after-raw" { retryAfterRaw = value } else { retryAfterMsRaw = value }
        case "usage-raw":
            guard let value, value.utf8.count <= 40, Self.isJSONNumber(value) else {
                throw MockControlError("\(source): 'usage-raw' needs a JSON number literal, got \(value.map { "'\($0)'" } ?? "nothing")")
            }
            usageRaw = value
        case "hostile-headers": hostileHeaders = try flag()
        case "echo": echo = try flag()
        case "tool": tool = try flag()
        case "fault":
            guard let value, let fault = Fault(rawValue: value.lowercased()) else {
                let known = Fault.allCases.map(\.rawValue).joined(separator: ", ")
                throw MockControlError("\(source): unknown fault '\(value ?? "")' (known: \(known))")
            }
            self.fault = fault
        default:
            throw MockControlError("\(source): unknown mock control '\(rawKey)' (known: latency, tps, tokens, fault, retry_after, echo, tool, retry_after_raw, retry_after_ms_raw, usage_raw, hostile_headers)")
        }
    }

    /// RFC 8259's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    static func isJSONNumber(_ text: String) -> Bool {
        let b = Array(text.utf8)
        var i = 0
        func digits() -> Int {
            let start = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
            return i - start
        }
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        if i < b.count, b[i] == UInt8(ascii: "0") { i += 1 } else if digits() == 0 { return false }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            if digits() == 0 { return false }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            if digits() == 0 { return false }
        }
        return i == b.count
    }
}
