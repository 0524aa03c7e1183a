import Guardrails

extension GatewayConfig {
    /// The `guardrails:` section: named policies, and the ones every request gets.
    /// Routes and API keys add their own (`guardrails: [names]`); a request runs the union,
    /// defaults first, each policy once.
    public struct GuardrailsSettings: Codable, Sendable, Equatable {
        public var policies: [GuardrailPolicyConfig]
        /// Policy names applied to every request (`guardrails.default`).
        public var defaultPolicies: [String]

        public init(policies: [GuardrailPolicyConfig] = [], defaultPolicies: [String] = []) {
            self.policies = policies
            self.defaultPolicies = defaultPolicies
        }
    }

    /// One named policy: an ordered list of checks.
    public struct GuardrailPolicyConfig: Codable, Sendable, Equatable {
        public var name: String
        public var checks: [GuardrailCheckConfig]

        public init(name: String, checks: [GuardrailCheckConfig]) {
            self.name = name
            self.checks = checks
        }
    }

    /// One check as configured. Only the fields of its `type` are set; `keywords_file` is
    /// already read into `keywords` (the snapshot is self-contained).
    public struct GuardrailCheckConfig: Codable, Sendable, Equatable {
        public enum CheckType: String, Codable, Sendable, CaseIterable {
            case keywords, pii, injection, regex
            /// Azure AI Content Safety (remote; prompt side only).
            case contentSafety = "content_safety"
        }

        /// A custom regex rule: its name labels findings and redactions.
        public struct Pattern: Codable, Sendable, Equatable {
            public var name: String
            public var regex: String
            public init(name: String, regex: String) {
                self.name = name
                self.regex = regex
            }
        }

        /// Unique within the policy; defaults to the type.
        public var name: String
        public var type: CheckType
        public var keywords: [String] = []
        public var wholeWord: Bool = false
        public var detectors: [PIIDetector] = []
        public var patterns: [Pattern] = []
        public var action: GuardrailAction
        public var shadow: Bool = false
        public var appliesTo: GuardrailScope = .prompt
        /// Set for `content_safety` checks only.
        public var contentSafety: ContentSafetySettings?

        public init(name: String, type: CheckType, action: GuardrailAction) {
            self.name = name
            self.type = type
            self.action = action
        }
    }
}

extension GatewayConfig {
    /// Where and how a `content_safety` check calls Azure AI Content Safety.
    public struct ContentSafetySettings: Codable, Sendable, Equatable {
        /// Resource endpoint, e.g. `https://<resource>.cognitiveservices.azure.com`.
        public var endpoint: String
        /// Sent as `Ocp-Apim-Subscription-Key`.
        public var apiKey: Secret?
        public var apiVersion: String = "2024-09-01"
        /// Category (`hate`, `self_harm`, `sexual`, `violence`) → lowest severity that violates.
        public var thresholds: [String: Int] = ["hate": 4, "self_harm": 4, "sexual": 4, "violence": 4]
        public var blocklists: [String] = []
        /// Also call `text:shieldPrompt` (direct and indirect prompt attacks).
        public var shieldPrompt = false
        public var timeoutMs = 2_000
        /// On timeout or error: block (fail closed) instead of letting the request through.
        public var failClosed = false

        public init(endpoint: String) {
            self.endpoint = endpoint
        }
    }
}

extension GatewayConfig.GuardrailCheckConfig {
    /// The compiled local check, or nil for a remote one (`content_safety`, which the worker
    /// runs itself). Throws (with the regex's own message) only for a pattern that does not
    /// compile; the config compiler reports that as an issue, so a loaded config never throws.
    public func compiled() throws -> GuardrailCheck? {
        let kind: GuardrailCheck.Kind
        switch type {
        case .contentSafety:
            return nil
        case .keywords:
            kind = .keywords(KeywordMatcher(strings: keywords), wholeWord: wholeWord)
        case .pii:
            kind = .pii(detectors.isEmpty ? PIIDetector.allCases : detectors)
        case .injection:
            kind = .injection(GuardrailPolicy.sharedInjectionDetector)
        case .regex:
            kind = .regex(try patterns.map { try CustomRegexRule(name: $0.name, pattern: $0.regex) })
        }
        return GuardrailCheck(name: name, kind: kind, action: action, shadow: shadow, appliesTo: appliesTo)
    }
}

extension GatewayConfig.GuardrailPolicyConfig {
    public func compiled() throws -> GuardrailPolicy {
        GuardrailPolicy(name: name, checks: try checks.compactMap { try $0.compiled() })
    }
}
