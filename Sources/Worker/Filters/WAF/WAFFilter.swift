import Config
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import TollgateCore
import WAF

/// ModSecurity + OWASP CRS on every API request, after auth and before quotas and
/// guardrails: a request the CRS scores at or above the anomaly threshold gets a 403
/// (`waf_blocked`) in the front's error shape, and the provider is never called.
///
/// The engine is compiled once per config generation (`RuntimeConfig.waf`); with the WAF
/// disabled there is none and the filter only checks for nil. Inspection is synchronous CPU
/// work of milliseconds (see `tollgate debug waf-bench`), so it runs on the worker's one WAF
/// thread (one inspection at a time per engine) while the event loop serves the others. Logs name rule ids
/// and messages only: ModSecurity's own log lines quote the request and never get out.
struct WAFFilter: RequestFilter {
    let name = "waf"
    let engine: WAFEngine?
    private static let logger = Logger(label: "tollgate.waf")

    init(config: RuntimeConfig) {
        engine = config.waf
    }

    func onRequest(_ context: RequestContext) -> FilterResult {
        guard let engine else { return .proceed }
        let head = context.head
        let version = head.version == .http1_1 ? "1.1" : "\(head.version.major).\(head.version.minor)"
        let client = context.clientAddress
        let body = context.body
        let inspect: @Sendable () -> WAFVerdict = {
            body.withUnsafeReadableBytes { raw in
                engine.inspect(method: head.method.rawValue, uri: head.uri, httpVersion: version, headers: head.headers, body: raw,
                               clientAddress: client?.ipAddress, clientPort: client?.port ?? 0)
            }
        }
        // The CRS costs milliseconds per request: on the worker's WAF thread, the event loop
        // keeps serving every other connection meanwhile (a hop costs microseconds).
        guard let pool = context.wafThread, let loop = context.io?.eventLoop else {
            return Self.result(inspect(), engine: engine, context: context)
        }
        return .suspend(pool.runIfActive(eventLoop: loop, inspect).map { Self.result($0, engine: engine, context: context) })
    }

    /// Counts, logs and answers a verdict (on the event loop).
    static func result(_ verdict: WAFVerdict, engine: WAFEngine, context: RequestContext) -> FilterResult {
        if let counters = context.counters {
            let (outcome, rules): (String, [WAFRuleMatch]) = {
                switch verdict {
                case .allow(let matched): return ("match", matched)
                case .block(_, let rules): return ("block", rules)
                }
            }()
            for rule in rules { counters.add("tollgate_waf_rule_matches_total{rule=\"\(rule.id)\",outcome=\"\(outcome)\"}") }
        }
        switch verdict {
        case .allow(let matched):
            if !matched.isEmpty {
                // Detect mode is for tuning, so what fired is worth a line. In block mode a
                // score below the threshold is normal (e.g. 920350 for every client that
                // addresses the gateway by IP) and would flood the log at info.
                let level: Logger.Level = engine.config.mode == .detect ? .info : .debug
                Self.logger.log(level: level, "waf matched without blocking", metadata: Self.metadata(context, matched, mode: engine.config.mode))
            }
            return .proceed
        case .block(let status, let rules):
            var metadata = Self.metadata(context, rules, mode: engine.config.mode)
            metadata["modsecurity_status"] = "\(status)"
            Self.logger.warning("waf blocked request", metadata: metadata)
            return .respond(Self.error(status: status, rules: rules))
        }
    }

    /// The client's answer, naming rule ids but nothing from the request: 403 `waf_blocked`
    /// for every rule verdict. A body ModSecurity's JSON parser refused (its status 400, rule
    /// 200002) is answered like the request parser would, 400 `invalid_json`: the client sent
    /// broken JSON, not an attack. It is not let through to that parser either, so a body the
    /// two parsers disagree on is never forwarded uninspected.
    static func error(status: Int, rules: [WAFRuleMatch]) -> GatewayError {
        if status == 400 {
            return .badRequest("We could not parse the JSON body of your request. The API expects a JSON object.", code: "invalid_json")
        }
        let ids = rules.map { String($0.id) }
        let list = ids.isEmpty ? "" : " (rule\(ids.count == 1 ? "" : "s") \(ids.joined(separator: ", ")))"
        var error = GatewayError.forbidden(
            "The request was blocked by the gateway's web application firewall\(list). Contact the gateway operator if this is a false positive.",
            code: "waf_blocked")
        error.extraJSONMembers = [("waf_rule_ids", "[" + ids.joined(separator: ",") + "]")]
        return error
    }

    static func metadata(_ context: RequestContext, _ rules: [WAFRuleMatch], mode: WAFConfig.Mode) -> Logger.Metadata {
        [
            "request_id": "\(context.requestID)",
            "key": "\(context.key?.name ?? "-")",
            "mode": "\(mode.rawValue)",
            "rule_ids": "\(rules.map { String($0.id) }.joined(separator: ","))",
            "rules": "\(rules.map(\.description).joined(separator: "; "))",
        ]
    }
}
