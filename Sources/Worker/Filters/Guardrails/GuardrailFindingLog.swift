import Guardrails
import Logging
import SharedState

/// The structured log line for guardrail findings, shared by the prompt and response sides.
/// Carries names and actions only: a finding never holds the matched text, so it cannot leak.
enum GuardrailFindingLog {
    /// Counts every finding per rule in the pod's labeled counters (`/metrics`), and logs
    /// every finding that did (or, in shadow mode, would) change something.
    static func log(_ findings: [GuardrailFinding], side: GuardrailDirection, requestID: String, key: String?, logger: Logger,
                    counters: LabeledCounters?) {
        if let counters {
            for f in findings {
                counters.add("tollgate_guardrail_findings_total{side=\"\(side.rawValue)\",policy=\"\(LabeledCounters.label(f.policy))\",check=\"\(LabeledCounters.label(f.check))\",rule=\"\(LabeledCounters.label(f.rule))\",action=\"\(f.effectiveAction.rawValue)\",shadow=\"\(f.shadow)\"}")
            }
        }
        for f in findings where f.action != .allow || f.shadow {
            logger.notice("guardrail finding", metadata: [
                "request_id": "\(requestID)", "key": "\(key ?? "-")", "side": "\(side.rawValue)", "policy": "\(f.policy)",
                "check": "\(f.check)", "rule": "\(f.rule)", "action": "\(f.action.rawValue)", "shadow": "\(f.shadow)",
                "applied": "\(f.effectiveAction.rawValue)",
            ])
        }
    }
}
