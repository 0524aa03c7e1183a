import Guardrails
import Logging

/// The structured log line for guardrail findings, shared by the prompt and response sides.
/// Carries names and actions only: a finding never holds the matched text, so it cannot leak.
enum GuardrailFindingLog {
    /// Logs every finding that did (or, in shadow mode, would) change something.
    static func log(_ findings: [GuardrailFinding], side: GuardrailDirection, requestID: String, key: String?, logger: Logger) {
        for f in findings where f.action != .allow || f.shadow {
            logger.notice("guardrail finding", metadata: [
                "request_id": "\(requestID)", "key": "\(key ?? "-")", "side": "\(side.rawValue)", "policy": "\(f.policy)",
                "check": "\(f.check)", "rule": "\(f.rule)", "action": "\(f.action.rawValue)", "shadow": "\(f.shadow)",
                "applied": "\(f.effectiveAction.rawValue)",
            ])
        }
    }
}
