import Config
import Guardrails
import NIOCore

/// One `content_safety` check of a policy, ready to call Azure AI Content Safety: the
/// request side of `ContentSafety` (Guardrails) over `UpstreamCall`.
struct ContentSafetyCheck: Sendable {
    let policy: String
    let name: String
    let action: GuardrailAction
    let shadow: Bool
    let settings: GatewayConfig.ContentSafetySettings
    let target: UpstreamTarget

    init?(policy: String, check: GatewayConfig.GuardrailCheckConfig) {
        guard let settings = check.contentSafety, let target = UpstreamTarget(baseURL: settings.endpoint) else { return nil }
        self.policy = policy
        self.name = check.name
        self.action = check.action
        self.shadow = check.shadow
        self.settings = settings
        self.target = target
    }

    /// `text:analyze` for every 10k-character piece of the prompt and the tool output, and,
    /// when enabled, `text:shieldPrompt` per piece of the prompt with the tool output as
    /// `documents` (each cut to the limit) riding on the first; all in parallel. Resolves to
    /// the combined verdict, never fails.
    func run(prompt: String, documents: [String], io: FilterIO) -> EventLoopFuture<ContentSafety.Verdict> {
        let all = ([prompt] + documents).filter { !$0.isEmpty }.joined(separator: "\n")
        guard !all.isEmpty else { return io.eventLoop.makeSucceededFuture(.pass) }
        let headers = [("ocp-apim-subscription-key", settings.apiKey?.value ?? "")]
        let timeout = TimeAmount.milliseconds(Int64(settings.timeoutMs))
        let query = "?api-version=\(settings.apiVersion)"
        let thresholds = settings.thresholds
        let categories = thresholds.keys.sorted()
        var calls: [EventLoopFuture<ContentSafety.Verdict>] = []
        for piece in ContentSafety.split(all) {
            let body = ContentSafety.analyzeBody(piece, categories: categories, blocklists: settings.blocklists)
            calls.append(UpstreamCall.post(pool: io.pool, eventLoop: io.eventLoop, target: target, path: "/contentsafety/text:analyze" + query,
                                           headers: headers, body: body, timeout: timeout)
                .map { ContentSafety.analyzeVerdict(status: $0.status, body: $0.body, thresholds: thresholds) })
        }
        if settings.shieldPrompt {
            let docs = documents.map { ContentSafety.split($0)[0] }
            for (i, piece) in ContentSafety.split(prompt).enumerated() {
                let shield = ContentSafety.shieldPromptBody(userPrompt: piece, documents: i == 0 ? docs : [])
                calls.append(UpstreamCall.post(pool: io.pool, eventLoop: io.eventLoop, target: target, path: "/contentsafety/text:shieldPrompt" + query,
                                               headers: headers, body: shield, timeout: timeout)
                    .map { ContentSafety.shieldVerdict(status: $0.status, body: $0.body) })
            }
        }
        let recovered = calls.map { $0.recover { .error("\($0)") } }
        return EventLoopFuture.whenAllSucceed(recovered, on: io.eventLoop).map(ContentSafety.combine)
    }
}
