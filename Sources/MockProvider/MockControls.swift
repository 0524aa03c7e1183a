import NIOHTTP1

/// Per-request behaviour of the mock, from `x-mock-*` headers or from `+key=value` suffixes on
/// the model name (the gateway rewrites model names, so a route can inject faults through
/// the upstream model it names, e.g. `mock-small+fault=503+retry_after=2`).
struct MockControls: Equatable {
    enum Fault: String, Equatable {
        case rateLimited = "429"
        case internalError = "500"
        case badGateway = "502"
        case unavailable = "503"
        case reset
        case hang
        case midstream
    }

    var latencyMs = 0
    var tokensPerSecond = 0
    var outputTokens = 16
    var fault: Fault?
    var retryAfterSeconds = 1
    var echo = false
    /// Answer with a call of the request's first tool (`+tool`).
    var tool = false

    /// Reads the suffixes of `model` (returning the bare name), then the headers, which win.
    static func parse(model: String, headers: HTTPHeaders) -> (MockControls, String) {
        var controls = MockControls()
        let parts = model.split(separator: "+", omittingEmptySubsequences: false)
        let base = parts.first.map(String.init) ?? model
        for part in parts.dropFirst() {
            let kv = part.split(separator: "=", maxSplits: 1)
            controls.apply(String(kv[0]), kv.count > 1 ? String(kv[1]) : "true")
        }
        for (name, value) in headers where name.lowercased().hasPrefix("x-mock-") {
            controls.apply(String(name.lowercased().dropFirst(7)).replacingUnderscores(), value)
        }
        return (controls, base)
    }

    private mutating func apply(_ key: String, _ value: String) {
        switch key.replacingUnderscores() {
        case "latency", "latency-ms": latencyMs = max(0, Int(value) ?? 0)
        case "tps", "tokens-per-second": tokensPerSecond = max(0, Int(value) ?? 0)
        case "tokens", "output-tokens": outputTokens = max(0, Int(value) ?? outputTokens)
        case "fault": fault = Fault(rawValue: value.lowercased())
        case "retry-after": retryAfterSeconds = max(0, Int(value) ?? 1)
        case "echo": echo = value == "true" || value == "1" || value.isEmpty
        case "tool": tool = value == "true" || value == "1" || value.isEmpty
        default: break
        }
    }
}

extension String {
    func replacingUnderscores() -> String {
        String(map { $0 == "_" ? "-" : $0 })
    }
}
