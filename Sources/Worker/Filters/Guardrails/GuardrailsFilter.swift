import Guardrails
import Logging
import NIOCore
import TollgateCore

/// Runs the request's guardrail policies (config defaults, then the route's, then the API
/// key's) over every text field of the prompt: a block answers 403 `guardrail_blocked` in the
/// front's error shape before anything goes upstream; a redaction replaces the body that is
/// forwarded. Remote `content_safety` checks then run on the (redacted) prompt while the chain
/// waits (`GuardrailsFilter+Remote`). Either way `x-tollgate-guardrails` tells the client
/// which checks ran and what they did. Logs name the policy, check and rule, never the text.
struct GuardrailsFilter: RequestFilter {
    let name = "guardrails"
    /// Compiled once per config generation; the automata inside are shared by every request.
    let policies: [String: GuardrailPolicy]
    let defaults: [String]
    let routePolicies: [String: [String]]
    let keyPolicies: [String: [String]]
    /// Remote (`content_safety`) checks by policy name; they run after the local ones.
    let remoteChecks: [String: [ContentSafetyCheck]]
    /// The engine per route × key, built here once per config generation.
    let engines: GuardrailEngineTable
    let logger = Logger(label: "tollgate.guardrails")

    init(config: RuntimeConfig) {
        var compiled: [String: GuardrailPolicy] = [:]
        var remote: [String: [ContentSafetyCheck]] = [:]
        for p in config.source.guardrails.policies {
            // The config compiler already compiled every policy once, so this cannot fail.
            if let policy = try? p.compiled() { compiled[p.name] = policy }
            remote[p.name] = p.checks.compactMap { ContentSafetyCheck(policy: p.name, check: $0) }
        }
        let defaults = config.source.guardrails.defaultPolicies
        let routePolicies = Dictionary(config.source.routes.map { ($0.name, $0.guardrails) }, uniquingKeysWith: { a, _ in a })
        let keyPolicies = Dictionary(config.source.apiKeys.map { ($0.name, $0.guardrails) }, uniquingKeysWith: { a, _ in a })
        policies = compiled
        remoteChecks = remote
        self.defaults = defaults
        self.routePolicies = routePolicies
        self.keyPolicies = keyPolicies
        engines = GuardrailEngineTable(policies: compiled, remoteChecks: remote, defaults: defaults, routePolicies: routePolicies,
                                       keyPolicies: keyPolicies)
    }

    /// The policy names for one request: defaults, route, key; each once.
    func policyNames(route: String?, key: String?) -> [String] {
        GuardrailEngineTable.names(defaults, route.flatMap { routePolicies[$0] } ?? [], key.flatMap { keyPolicies[$0] } ?? [])
    }

    func onRequest(_ context: RequestContext) -> FilterResult {
        guard !policies.isEmpty else { return .proceed }
        let entry = engines.entry(route: context.route?.name, key: context.key?.name)
        let engine = entry.engine
        let remote = entry.remote
        if engine.applies(to: .response) { context.responseGuardrails = engine }
        var header: String?
        if engine.applies(to: .prompt) {
            let result = context.body.withUnsafeReadableBytes { raw in
                GuardrailJSONRewriter.scan(raw, document: Self.document(context.endpoint), engine: engine, direction: .prompt)
            }
            header = GuardrailsHeader.value(engine: engine, findings: result.findings, direction: .prompt)
            GuardrailFindingLog.log(result.findings, side: .prompt, requestID: context.requestID, key: context.key?.name, logger: logger,
                                    counters: context.counters)
            switch result.verdict {
            case .block:
                var error = GatewayError.guardrailBlocked(result.findings.first { $0.effectiveAction == .block }, side: .prompt)
                error.headers.append(("x-tollgate-guardrails", header! + remote.map { ", \($0.policy)/\($0.name)=skipped" }.joined()))
                return .respond(error)
            case .redact:
                if let body = result.body {
                    var buffer = ByteBufferAllocator().buffer(capacity: body.count)
                    buffer.writeBytes(body)
                    context.body = buffer
                    // The proxy rewrites these ranges in place later; they moved with the splice.
                    context.modelRange = context.modelRange.map(result.shifted)
                    context.streamOptionsRange = context.streamOptionsRange.map(result.shifted)
                }
            case .allow:
                break
            }
        }
        guard !remote.isEmpty else {
            if let header { context.responseHeaders.append(("x-tollgate-guardrails", header)) }
            return .proceed
        }
        return runRemote(remote, context: context, localHeader: header)
    }

    static func document(_ endpoint: RequestContext.Endpoint) -> GuardrailDocument {
        switch endpoint {
        case .chatCompletions: return .openAIChatRequest
        case .embeddings: return .openAIEmbeddingsRequest
        case .messages, .countTokens: return .anthropicMessagesRequest
        }
    }
}
