import Guardrails
import TollgateCore

extension GatewayError {
    /// 403 `guardrail_blocked`: names the policy, check and rule that fired, never the text.
    static func guardrailBlocked(_ finding: GuardrailFinding?, side: GuardrailDirection) -> GatewayError {
        let what = side == .prompt ? "request" : "response"
        return .forbidden("The \(what) was blocked by guardrail policy '\(finding?.policy ?? "?")' (check '\(finding?.check ?? "?")', rule '\(finding?.rule ?? "?")').",
                          code: "guardrail_blocked")
    }

    /// 502 `upstream_event_too_large`: a streamed event the response guardrails would have to
    /// hold past their limit; the stream ends here rather than buffer without bound.
    static func guardrailEventTooLarge(limit: Int) -> GatewayError {
        GatewayError(status: 502, type: "server_error", code: "upstream_event_too_large",
                     message: "The upstream sent a stream event larger than \(limit) bytes; response guardrails cannot inspect it, so the stream was ended.")
    }
}
