import Guardrails
import NIOCore
import TollgateCore

/// The remote half of the guardrails filter: `content_safety` checks call Azure AI Content
/// Safety with the (already redacted) prompt text, all in parallel, and the chain waits for
/// them (`suspend`). A violation acts like a local finding; an error or timeout lets the
/// request through or answers 503 `guardrail_unavailable`, as each check's `on_error` says.
extension GuardrailsFilter {
    func runRemote(_ checks: [ContentSafetyCheck], context: RequestContext, localHeader: String?) -> FilterResult {
        // Everything is analysed; prompt shields get tool output as documents (indirect attacks).
        let (prompt, documents): (String, [String]) = context.body.withUnsafeReadableBytes { raw in
            let fields = Self.document(context.endpoint).classifiedTextFields(in: raw)
            let typed = fields.filter { !$0.isToolOutput }.compactMap { JSONScanner.decodeString(raw, $0.range) }
            let tools = fields.filter(\.isToolOutput).compactMap { JSONScanner.decodeString(raw, $0.range) }
            return (typed.joined(separator: "\n"), tools)
        }
        guard let io = context.io else {
            return decide(checks, verdicts: checks.map { _ in .error("no I/O context") }, context: context, localHeader: localHeader)
        }
        let calls = checks.map { $0.run(prompt: prompt, documents: documents, io: io) }
        let bound = NIOLoopBound((self, context), eventLoop: io.eventLoop)
        return .suspend(EventLoopFuture.whenAllSucceed(calls, on: io.eventLoop).map { verdicts in
            let (filter, context) = bound.value
            return filter.decide(checks, verdicts: verdicts, context: context, localHeader: localHeader)
        })
    }

    func decide(_ checks: [ContentSafetyCheck], verdicts: [ContentSafety.Verdict], context: RequestContext, localHeader: String?) -> FilterResult {
        var parts = localHeader.map { [$0] } ?? []
        var outcome: FilterResult = .proceed
        for (check, verdict) in zip(checks, verdicts) {
            let stopped: Bool
            if case .respond = outcome { stopped = true } else { stopped = false }
            switch verdict {
            case .pass:
                parts.append("\(check.policy)/\(check.name)=pass")
            case .violation(let rule):
                let finding = GuardrailFinding(policy: check.policy, check: check.name, rule: "content_safety:\(rule)", type: "CONTENT_SAFETY",
                                               range: 0..<0, action: check.action, shadow: check.shadow)
                GuardrailFindingLog.log([finding], side: .prompt, requestID: context.requestID, key: context.key?.name, logger: logger,
                                        counters: context.counters)
                parts.append("\(check.policy)/\(check.name)=\(check.shadow ? "shadow-" : "")\(check.action.rawValue)")
                if !stopped, finding.effectiveAction == .block {
                    outcome = .respond(.guardrailBlocked(finding, side: .prompt))
                }
            case .error(let reason):
                let closed = check.settings.failClosed && !check.shadow
                logger.warning("content-safety check failed", metadata: [
                    "request_id": "\(context.requestID)", "policy": "\(check.policy)", "check": "\(check.name)",
                    "reason": "\(reason)", "fail": "\(closed ? "closed" : "open")",
                ])
                parts.append("\(check.policy)/\(check.name)=error-\(closed ? "block" : "allow")")
                if !stopped, closed {
                    outcome = .respond(GatewayError(status: 503, type: "server_error", code: "guardrail_unavailable",
                                                    message: "The content-safety check '\(check.name)' of guardrail policy '\(check.policy)' could not complete (\(reason)), and it fails closed."))
                }
            }
        }
        let header = ("x-tollgate-guardrails", parts.joined(separator: ", "))
        if case .respond(var error) = outcome {
            error.headers.append(header)
            return .respond(error)
        }
        context.responseHeaders.append(header)
        return .proceed
    }
}
