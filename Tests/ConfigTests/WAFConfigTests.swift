import Foundation
import Testing
@testable import Config

@Suite struct WAFConfigTests {
    private func load(_ waf: String) throws(ConfigLoadError) -> GatewayConfig {
        try ConfigLoader.load(yaml: ConfigLoaderTests.minimal + "\n" + waf, source: "test.yaml", environment: ["OPENAI_API_KEY": "sk-x"])
    }

    private func issues(_ waf: String) -> [ConfigIssue] {
        do {
            _ = try load(waf)
            Issue.record("expected the config to be rejected")
            return []
        } catch {
            return error.issues
        }
    }

    @Test func absentSectionMeansDisabledWithDefaults() throws {
        let waf = try load("").waf
        #expect(waf == WAFConfig())
        #expect(!waf.enabled)
        #expect(waf.mode == .block && waf.paranoiaLevel == 1 && waf.anomalyThreshold == 5)
        #expect(waf.rulesDirectory == "/usr/share/modsecurity-crs")
    }

    @Test func fullSectionCompiles() throws {
        let waf = try load("""
        waf:
          enabled: true
          mode: detect
          paranoia_level: 2
          anomaly_threshold: 10
          rules_dir: /usr/share/modsecurity-crs
          exclude_rule_ids: [942100, 920350]
          exclude_args: [json.user, "/^json\\\\.metadata\\\\./"]
        """).waf
        #expect(waf == WAFConfig(enabled: true, mode: .detect, paranoiaLevel: 2, anomalyThreshold: 10,
                                 excludeRuleIDs: [942100, 920350], excludeArgs: ["json.user", "/^json\\.metadata\\./"]))
        #expect(waf.crsRulesDirectory == "/usr/share/modsecurity-crs/rules")
    }

    @Test func paranoiaOutOfRangeIsReportedWithPathAndLine() {
        let found = issues("waf:\n  enabled: true\n  paranoia_level: 5\n")
        #expect(found.map(\.path) == ["waf.paranoia_level"])
        #expect(found.first?.message == "paranoia_level must be between 1 and 4, got 5")
        #expect(found.first?.line == ConfigLoaderTests.minimal.split(separator: "\n", omittingEmptySubsequences: false).count + 3)
    }

    @Test func missingRulesDirectoryOnlyMattersWhenEnabled() throws {
        let found = issues("waf:\n  enabled: true\n  rules_dir: /nonexistent/crs\n")
        #expect(found.map(\.path) == ["waf.rules_dir"])
        #expect(found.first?.message.hasPrefix("no OWASP CRS found in /nonexistent/crs") == true)
        #expect(try load("waf:\n  enabled: false\n  rules_dir: /nonexistent/crs\n").waf.rulesDirectory == "/nonexistent/crs")
    }

    @Test func everyBadValueIsReported() {
        let found = issues("""
        waf:
          enabled: maybe
          mode: audit
          anomaly_threshold: 0
          exclude_rule_ids: [942100, -1, abc]
          exclude_args: ["json.a|json.b", "/unterminated", "has space", "/[bad/"]
          extra_rules_file: /nonexistent/rules.conf
          paranoia_levl: 2
        """)
        #expect(Set(found.map(\.path)) == [
            "waf.enabled", "waf.mode", "waf.anomaly_threshold", "waf.exclude_rule_ids[1]", "waf.exclude_rule_ids[2]",
            "waf.exclude_args[0]", "waf.exclude_args[1]", "waf.exclude_args[2]", "waf.exclude_args[3]", "waf.paranoia_levl",
        ])
        #expect(found.first { $0.path == "waf.paranoia_levl" }?.message == "unknown key (did you mean \"paranoia_level\"?)")
        #expect(found.first { $0.path == "waf.mode" }?.message == "unknown mode \"audit\"; valid: block, detect")
    }

    @Test func unreadableExtraRulesFileIsAnIssueWhenEnabled() {
        let found = issues("waf:\n  enabled: true\n  extra_rules_file: /nonexistent/rules.conf\n")
        #expect(found.map(\.path) == ["waf.extra_rules_file"])
    }

    @Test func survivesTheSnapshotRoundTrip() throws {
        let config = try load("waf:\n  enabled: true\n  exclude_args: [json.user]\n")
        let decoded = try JSONDecoder().decode(GatewayConfig.self, from: JSONEncoder().encode(config))
        #expect(decoded.waf == config.waf)
    }
}
