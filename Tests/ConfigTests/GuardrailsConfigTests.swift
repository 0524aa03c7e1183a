import Foundation
import Guardrails
import Testing
@testable import Config

@Suite struct GuardrailsConfigTests {
    static let base = """
    version: 1
    listeners: [{address: 127.0.0.1, port: 8080}]
    providers: [{name: p, kind: openai-compatible, base_url: "http://127.0.0.1:9"}]
    models: [{name: m, route: r}]
    routes:
      - name: r
        guardrails: [strict]
        priorities: [{backends: [{provider: p, model: m}]}]
    api_keys:
      - name: app
        key_hash: "\(APIKeyHash.hash(plaintext: "k"))"
        models: ["*"]
        guardrails: [strict, base]
    """

    static func config(_ guardrails: String) -> String { base + "\n" + guardrails }

    private func issues(_ yaml: String) -> [ConfigIssue] {
        do {
            _ = try ConfigLoader.load(yaml: yaml, source: "t.yaml", environment: [:])
            Issue.record("expected the config to be rejected")
            return []
        } catch {
            return error.issues
        }
    }

    @Test func compilesPoliciesAndReferences() throws {
        let c = try ConfigLoader.load(yaml: Self.config("""
        guardrails:
          default: [base]
          policies:
            - name: base
              checks:
                - {type: injection, action: block}
                - {type: pii, detectors: [credit_card, email], action: redact, applies_to: both}
            - name: strict
              checks:
                - {type: keywords, keywords: [falcon, "q3 plan"], whole_word: true, action: block, shadow: true}
                - type: regex
                  patterns: {ticket: "TCK-[0-9]+", emp-id: "EMP-[0-9]{6}"}
                  action: redact
        """), source: "t.yaml", environment: [:])
        #expect(c.guardrails.defaultPolicies == ["base"])
        #expect(c.guardrails.policies.map(\.name) == ["base", "strict"])
        let pii = c.guardrails.policies[0].checks[1]
        #expect(pii.name == "pii" && pii.detectors == [.creditCard, .email] && pii.appliesTo == .both && pii.action == .redact)
        let kw = c.guardrails.policies[1].checks[0]
        #expect(kw.keywords == ["falcon", "q3 plan"] && kw.wholeWord && kw.shadow && kw.appliesTo == .prompt)
        #expect(c.guardrails.policies[1].checks[1].patterns.map(\.name) == ["ticket", "emp-id"])
        #expect(c.routes.first { $0.name == "r" }?.guardrails == ["strict"])
        #expect(c.apiKeys[0].guardrails == ["strict", "base"])
        // What the worker compiles works on text.
        let engine = GuardrailEngine(policies: try c.guardrails.policies.map { try $0.compiled() })
        let r = engine.scan("card 4111111111111111 and TCK-42", direction: .prompt)
        #expect(String(decoding: r.redacted!, as: UTF8.self) == "card [REDACTED:CREDIT_CARD] and [REDACTED:TICKET]")
    }

    @Test func everyMistakeIsReportedWithPathAndLine() {
        let found = issues(Self.config("""
        guardrails:
          default: [base, nope]
          policies:
            - name: base
              checks:
                - {type: pii, detectors: [credit_crd, email], action: redact}
                - {type: regex, patterns: {bad: "(unclosed"}, action: block}
                - {type: keywords, action: blok, keywords: [x]}
                - {type: virus, action: block}
                - {type: injection, action: block, whole_word: true}
                - {type: keywords, keywords: [], action: block, shadow: maybe}
        """).replacingOccurrences(of: "guardrails: [strict]", with: "guardrails: [base, bse]"))
        let byPath = Dictionary(found.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byPath["guardrails.default[1]"]?.message.contains("unknown guardrail policy \"nope\"") == true)
        #expect(byPath["guardrails.policies[0].checks[0].detectors[0]"]?.message.contains("did you mean \"credit_card\"") == true)
        #expect(byPath["guardrails.policies[0].checks[1].patterns.bad"]?.message.contains("invalid regular expression") == true)
        #expect(byPath["guardrails.policies[0].checks[2].action"]?.message.contains("did you mean \"block\"") == true)
        #expect(byPath["guardrails.policies[0].checks[3].type"]?.message.contains("unknown check type \"virus\"") == true)
        #expect(byPath["guardrails.policies[0].checks[4].whole_word"]?.message.contains("only applies to checks of type keywords") == true)
        #expect(byPath["guardrails.policies[0].checks[5].shadow"]?.message.contains("expected true or false") == true)
        #expect(byPath["routes[0].guardrails[1]"]?.message.contains("did you mean \"base\"") == true)
        #expect(byPath["api_keys[0].guardrails[0]"]?.message.contains("unknown guardrail policy \"strict\"") == true)
        #expect(found.allSatisfy { $0.line != nil }, "\(found.filter { $0.line == nil })")
    }

    @Test func keywordsFileIsReadAtLoad() throws {
        let path = NSTemporaryDirectory() + "tg-kw-\(UUID().uuidString).txt"
        try "# blocklist\nalpha\n\n  beta gamma  \n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let c = try ConfigLoader.load(yaml: Self.config("""
        guardrails:
          policies:
            - {name: strict, checks: [{type: keywords, keywords: [zeta], keywords_file: "\(path)", action: block}]}
            - {name: base, checks: [{type: injection, action: allow}]}
        """), source: "t.yaml", environment: [:])
        #expect(c.guardrails.policies[0].checks[0].keywords == ["zeta", "alpha", "beta gamma"])
        let missing = issues(Self.config("""
        guardrails:
          policies:
            - {name: strict, checks: [{type: keywords, keywords_file: /nonexistent/kw.txt, action: block}]}
            - {name: base, checks: [{type: injection, action: allow}]}
        """))
        #expect(missing.map(\.path) == ["guardrails.policies[0].checks[0].keywords_file"])
    }

    @Test func contentSafetyChecks() throws {
        let c = try ConfigLoader.load(yaml: Self.config("""
        guardrails:
          policies:
            - name: strict
              checks:
                - type: content_safety
                  endpoint: https://res.cognitiveservices.azure.com/
                  api_key_env: CS_KEY
                  categories: {hate: 2, violence: 6}
                  blocklists: [corp]
                  shield_prompt: true
                  timeout_ms: 500
                  on_error: block
                  action: block
            - {name: base, checks: [{type: injection, action: allow}]}
        """), source: "t.yaml", environment: ["CS_KEY": "k1"])
        let cs = try #require(c.guardrails.policies[0].checks[0].contentSafety)
        #expect(cs.endpoint == "https://res.cognitiveservices.azure.com" && cs.apiKey?.value == "k1")
        #expect(cs.thresholds == ["hate": 2, "violence": 6] && cs.blocklists == ["corp"] && cs.shieldPrompt && cs.timeoutMs == 500 && cs.failClosed)
        #expect(try c.guardrails.policies[0].compiled().checks.isEmpty, "remote checks are not part of the local engine")

        let found = issues(Self.config("""
        guardrails:
          policies:
            - name: strict
              checks:
                - {type: content_safety, endpoint: "ftp://x", api_key_env: MISSING, categories: {hate: 9, violense: 2}, action: redact, applies_to: both, on_error: maybe}
            - {name: base, checks: [{type: content_safety, action: block}]}
        """))
        let byPath = Dictionary(found.map { ($0.path, $0.message) }, uniquingKeysWith: { a, _ in a })
        #expect(byPath["guardrails.policies[0].checks[0].endpoint"]?.contains("endpoint must start with http://") == true)
        #expect(byPath["guardrails.policies[0].checks[0].api_key_env"]?.contains("MISSING is not set") == true)
        #expect(byPath["guardrails.policies[0].checks[0].categories.hate"]?.contains("between 0 and 7") == true)
        #expect(byPath["guardrails.policies[0].checks[0].categories.violense"]?.contains("did you mean \"violence\"") == true)
        #expect(byPath["guardrails.policies[0].checks[0].action"]?.contains("not redact") == true)
        #expect(byPath["guardrails.policies[0].checks[0].applies_to"]?.contains("prompts only") == true)
        #expect(byPath["guardrails.policies[0].checks[0].on_error"]?.contains("unknown on_error") == true)
        #expect(byPath["guardrails.policies[1].checks[0].endpoint"]?.contains("need endpoint") == true)
        #expect(found.allSatisfy { $0.line != nil })
    }
}
