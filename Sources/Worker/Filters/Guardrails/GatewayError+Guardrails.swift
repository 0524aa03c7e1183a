import Guardrails
import TollgateCore

extension GatewayError {
    /// 403 `guardrail_blocked`: names the policy, check and rule that fired, never the text.
    static func guardrailBlocked(_ finding: GuardrailFinding?, side: GuardrailDirection) -> GatewayError {
        let what = side == .prompt ? "request" : "response"
        return .forbidden("The \(what) was blocked by guardrail policy '\(finding?.policy ?? "?")' (check '\(finding?.check ?? "?")', rule '\(finding?.rule ?? "?")').",
                          code: "guardrail_blocked")
    }
}
