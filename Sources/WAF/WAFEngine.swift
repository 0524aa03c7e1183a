import CModSecurity
import Config
import Foundation
import Synchronization

/// ModSecurity v3 with the OWASP Core Rule Set, compiled once per config generation and asked
/// about one request at a time.
///
/// Building an engine parses the CRS (a few hundred milliseconds), so workers build it on
/// their config-reload queue together with the rest of `RuntimeConfig`; `inspect` is
/// synchronous CPU work (regexes, libinjection) meant for the worker's event loop.
///
/// Thread safety: after `init` the rules set is only read; each `inspect` creates, runs and
/// frees its own transaction and keeps its state on its own stack. A worker is one event
/// loop thread and holds one engine per generation, so in the gateway inspections never
/// overlap; the type is `@unchecked Sendable` because the config reference carrying it
/// crosses from the reload queue to the loop once, with a happens-before edge.
///
/// What ModSecurity logs about a request (values, data, the URI) never leaves this type: its
/// log lines are reduced to rule ids and messages by `WAFLogParser`.
public final class WAFEngine: @unchecked Sendable {
    public let config: WAFConfig
    private let modsec: OpaquePointer
    private let rules: OpaquePointer

    /// libmodsecurity's rule parser (flex/bison) keeps global state: two engines compiled at
    /// once on different threads corrupt each other's parse. Workers compile on one queue
    /// anyway; this makes it true for every caller (tests, tools).
    private static let compileLock = Mutex(())

    public init(config: WAFConfig) throws(WAFError) {
        let result = Self.compileLock.withLock { _ in
            Result { () throws(WAFError) in try Self.compile(config) }
        }
        (modsec, rules) = try result.get()
        self.config = config
    }

    /// Both handles, with every rule loaded, or the first error (and nothing leaked).
    private static func compile(_ config: WAFConfig) throws(WAFError) -> (OpaquePointer, OpaquePointer) {
        guard let crs = config.crsRulesDirectory else { throw .rulesNotFound(directory: config.rulesDirectory) }
        let files = try WAFRules.crsFiles(in: crs)
        guard let modsec = msc_init() else { throw .engine("msc_init failed") }
        guard let rules = msc_create_rules_set() else {
            msc_cleanup(modsec)
            throw .engine("msc_create_rules_set failed")
        }
        msc_set_connector_info(modsec, "tollgate")
        msc_set_log_cb(modsec, wafLogCallback)
        do {
            try add(text: WAFRules.base(mode: config.mode), source: "the base settings", to: rules)
            try add(text: WAFRules.crsSetup(paranoiaLevel: config.paranoiaLevel, anomalyThreshold: config.anomalyThreshold),
                    source: "the CRS setup", to: rules)
            for file in files {
                try add(file: file, to: rules)
            }
            try add(text: WAFRules.exclusions(config), source: "the exclusions (waf.exclude_args / exclude_rule_ids)", to: rules)
            if let extra = config.extraRulesFile {
                try add(file: extra, to: rules)
            }
        } catch {
            msc_rules_cleanup(rules)
            msc_cleanup(modsec)
            throw error
        }
        return (modsec, rules)
    }

    deinit {
        msc_rules_cleanup(rules)
        msc_cleanup(modsec)
    }

    private static func add(text: String, source: String, to rules: OpaquePointer) throws(WAFError) {
        var error: UnsafePointer<CChar>?
        // libmodsecurity 3.0.9's lexer keeps its state across parses when a text ends
        // without a newline, and the next engine built in this process then fails to parse.
        if msc_rules_add(rules, text + "\n", &error) < 0 {
            throw .rules(source: source, message: take(error))
        }
    }

    private static func add(file: String, to rules: OpaquePointer) throws(WAFError) {
        // The same lexer bug as above, for a file we cannot append to: refuse it, or the
        // next config generation's engine would fail to build.
        if let handle = FileHandle(forReadingAtPath: file) {
            defer { try? handle.close() }
            if let size = try? handle.seekToEnd(), size > 0, (try? handle.seek(toOffset: size - 1)) != nil,
               let last = try? handle.read(upToCount: 1), last != Data([0x0A]) {
                throw .rules(source: file, message: "the file must end with a newline")
            }
        }
        var error: UnsafePointer<CChar>?
        if msc_rules_add_file(rules, file, &error) < 0 {
            throw .rules(source: file, message: take(error))
        }
    }

    /// ModSecurity hands out its error strings with `strdup`; the caller frees them.
    private static func take(_ error: UnsafePointer<CChar>?) -> String {
        guard let error else { return "unknown error" }
        defer { free(UnsafeMutablePointer(mutating: error)) }
        return String(cString: error).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs phases 1 (connection, URI, headers) and 2 (body) of the rules over one request.
    ///
    /// - Parameters:
    ///   - uri: the request target as received (path and query string).
    ///   - httpVersion: e.g. `"1.1"`.
    ///   - headers: every request header, in order.
    ///   - body: the complete request body.
    ///   - clientAddress: the peer's IP (CRS rules and logs use it); `clientPort` its port.
    ///   - blankPrompt: hand ModSecurity the copy with the prompt blanked (`WAFPromptBlanker`);
    ///     false only to measure the alternative (`tollgate debug waf-bench`).
    public func inspect<Headers: Sequence>(
        method: String, uri: String, httpVersion: String, headers: Headers, body: UnsafeRawBufferPointer,
        clientAddress: String?, clientPort: Int = 0, blankPrompt: Bool = true
    ) -> WAFVerdict where Headers.Element == (name: String, value: String) {
        // The nonce anchors log parsing (see `WAFLogParser`); clients never see it.
        var uniqueID = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let path = uri.firstIndex(of: "?").map { String(uri[..<$0]) } ?? uri
        let collector = WAFLogCollector(parser: WAFLogParser(path: path.removingPercentEncoding ?? path, uniqueID: uniqueID))
        let transaction = uniqueID.withUTF8 { id in
            id.withMemoryRebound(to: CChar.self) { id in
                // msc_new_transaction_with_id copies the id into a std::string.
                msc_new_transaction_with_id(modsec, rules, UnsafeMutablePointer(mutating: id.baseAddress),
                                            Unmanaged.passUnretained(collector).toOpaque())
            }
        }
        guard let transaction else {
            // Without a transaction nothing can be inspected; failing closed would turn an
            // allocation failure into an outage, so the request passes and the gap is logged.
            return .allow(matched: [WAFRuleMatch(id: 0, message: "ModSecurity could not create a transaction")])
        }
        defer {
            msc_process_logging(transaction)
            msc_transaction_cleanup(transaction)
            withExtendedLifetime(collector) {}
        }
        msc_process_connection(transaction, clientAddress ?? "0.0.0.0", Int32(clamping: clientPort), "127.0.0.1", 0)
        msc_process_uri(transaction, uri, method, httpVersion)
        if let verdict = intervention(transaction, collector) { return verdict }
        for (name, value) in headers {
            var name = name
            var value = value
            name.withUTF8 { n in
                value.withUTF8 { v in
                    _ = msc_add_n_request_header(transaction, n.baseAddress, n.count, v.baseAddress, v.count)
                }
            }
        }
        msc_process_request_headers(transaction)
        if let verdict = intervention(transaction, collector) { return verdict }
        // The prompt is the guardrails' business: ModSecurity gets a copy with it blanked.
        if blankPrompt, let blanked = WAFPromptBlanker.blank(body) {
            blanked.withUnsafeBufferPointer { b in
                _ = msc_append_request_body(transaction, b.baseAddress, b.count)
            }
        } else if let base = body.baseAddress, body.count > 0 {
            msc_append_request_body(transaction, base.assumingMemoryBound(to: UInt8.self), body.count)
        }
        msc_process_request_body(transaction)
        if let verdict = intervention(transaction, collector) { return verdict }
        return .allow(matched: collector.matches)
    }

    /// The block verdict when a disruptive action fired in the phase just run, else nil.
    private func intervention(_ transaction: OpaquePointer, _ collector: WAFLogCollector) -> WAFVerdict? {
        var it = ModSecurityIntervention(status: 200, pause: 0, url: nil, log: nil, disruptive: 0)
        guard msc_intervention(transaction, &it) != 0 else { return nil }
        defer {
            free(it.log)
            free(it.url)
        }
        // The intervention log names the disruptive rule (949110, the anomaly evaluation, for
        // the CRS); it usually also came through the log callback.
        if let log = it.log {
            collector.record(String(cString: log))
        }
        return .block(status: Int(it.status), rules: collector.matches)
    }
}

/// ModSecurity's server-log callback: `data` is the transaction's collector, `message` the
/// text of one rule message (only valid during the call).
private func wafLogCallback(_ data: UnsafeMutableRawPointer?, _ message: UnsafeRawPointer?) {
    guard let data, let message else { return }
    let collector = Unmanaged<WAFLogCollector>.fromOpaque(data).takeUnretainedValue()
    collector.record(String(cString: message.assumingMemoryBound(to: CChar.self)))
}
