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
        guard let pool = context.wafThread, let loop = context.eventLoop else {
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
                // Detect mode, or scores below the threshold: what would need tuning.
                Self.logger.info("waf matched without blocking", metadata: Self.metadata(context, matched, mode: engine.config.mode))
            }
            return .proceed
        case .block(let status, let rules):
            var metadata = Self.metadata(context, rules, mode: engine.config.mode)
            metadata["modsecurity_status"] = "\(status)"
            Self.logger.warning("waf blocked request", metadata: metadata)
            return .respond(Self.error(rules: rules))
        }
    }

    /// The client's answer: always 403 with the stable code `waf_blocked` (also when
    /// ModSecurity chose another status, e.g. 400 for a body its JSON parser refused), naming
    /// rule ids but nothing from the request.
    static func error(rules: [WAFRuleMatch]) -> GatewayError {
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
