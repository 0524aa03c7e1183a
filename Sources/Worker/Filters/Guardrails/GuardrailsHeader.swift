import Guardrails

/// Renders `x-tollgate-guardrails`: every check that applied, in order, as
/// `policy/check=outcome`, where outcome is `pass`, the action taken (`allow`, `redact`,
/// `block`), `shadow-<action>` for a shadow check that matched, or `skipped` for checks after
/// a block (scanning stops there). Names only, never matched text.
enum GuardrailsHeader {
    static func value(engine: GuardrailEngine, findings: [GuardrailFinding], direction: GuardrailDirection) -> String {
        let blocker = findings.first { $0.effectiveAction == .block }
        var parts: [String] = []
        var afterBlock = false
        for policy in engine.policies {
            for check in policy.checks where check.appliesTo.covers(direction) {
                let outcome: String
                if afterBlock {
                    outcome = "skipped"
                } else if findings.contains(where: { $0.policy == policy.name && $0.check == check.name }) {
                    outcome = check.shadow ? "shadow-\(check.action.rawValue)" : check.action.rawValue
                } else {
                    outcome = "pass"
                }
                parts.append("\(policy.name)/\(check.name)=\(outcome)")
                if let blocker, blocker.policy == policy.name, blocker.check == check.name { afterBlock = true }
            }
        }
        return parts.joined(separator: ", ")
    }
}
