import Foundation
import Testing
@testable import Config

/// The `quotas:` section and `limits:` on keys, teams, models and providers.
@Suite struct QuotaConfigTests {
    static let base = """
        version: 1
        listeners: [{address: 127.0.0.1, port: 8080}]
        providers:
          - name: openai
            kind: openai
            base_url: https://api.openai.com/v1
            api_key_env: OPENAI_API_KEY
        """

    func load(_ yaml: String, env: [String: String] = ["OPENAI_API_KEY": "sk-x", "REDIS_PW": "hunter2"]) throws(ConfigLoadError) -> GatewayConfig {
        try ConfigLoader.load(yaml: yaml, source: "q.yaml", environment: env)
    }

    func issues(_ yaml: String) -> [ConfigIssue] {
        do {
            _ = try load(yaml)
            Issue.record("expected the config to be rejected")
            return []
        } catch {
            return error.issues
        }
    }

    static let key = "sha256:" + String(repeating: "a", count: 64)

    @Test func limitsEverywhere() throws {
        let c = try load(Self.base + """

              - name: azure
                kind: openai
                base_url: https://x.example/v1
                api_key_env: OPENAI_API_KEY
                budget: {usd_per_month: 5000, on_redis_down: fail_closed}
            models:
              - name: gpt-4o
                provider: openai
                limits: {tokens_per_minute: 2M}
            quotas:
              time_zone: Europe/Berlin
              table_slots: 4096
              on_table_full: fail_closed
              key_defaults: {requests_per_minute: 60}
              teams:
                - name: research
                  limits: {usd_per_day: 12.5, usd_per_7d: "$50"}
              redis:
                url: redis://10.0.0.5:6380/2
                password_env: REDIS_PW
                sync_interval_ms: 100ms
            api_keys:
              - name: app
                key_hash: "\(Self.key)"
                models: ["*"]
                team: research
                limits:
                  requests_per_second: 10
                  requests_per_minute: 1_000
                  tokens_per_day: 100k
                  concurrent_requests: 20
                  usd_per_month: 1000
                  strict: true
                model_limits:
                  gpt-4o: {requests_per_minute: 5}
            """)
        #expect(c.quotas.timeZone == "Europe/Berlin" && c.quotas.tableSlots == 4096 && c.quotas.onTableFull == .closed)
        #expect(c.quotas.keyDefaults?.limits == [.init(name: "requests_per_minute", metric: .requests, amount: 60, window: .rolling(seconds: 60))])
        #expect(c.quotas.teams.first?.limits.limits == [
            .init(name: "usd_per_day", metric: .microUSD, amount: 12_500_000, window: .calendarDay),
            .init(name: "usd_per_7d", metric: .microUSD, amount: 50_000_000, window: .rolling(seconds: 604_800)),
        ])
        let redis = try #require(c.quotas.redis)
        #expect(redis.host == "10.0.0.5" && redis.port == 6380 && redis.database == 2 && redis.syncIntervalMs == 100)
        #expect(redis.password == Secret("hunter2"))
        let key = try #require(c.apiKeys.first)
        #expect(key.team == "research" && key.limits?.strict == true)
        #expect(key.limits?.limits.map(\.name) == ["requests_per_second", "requests_per_minute", "tokens_per_day", "concurrent_requests", "usd_per_month"])
        #expect(key.limits?.limits.first { $0.metric == .tokens }?.amount == 100_000)
        #expect(key.modelLimits["gpt-4o"]?.limits.first?.amount == 5)
        #expect(c.models.first?.limits?.limits.first?.amount == 2_000_000)
        #expect(c.providers[1].budget == .init(limits: [.init(name: "usd_per_month", metric: .microUSD, amount: 5_000_000_000, window: .calendarMonth)], onRedisDown: .closed))
        // The snapshot carries all of it.
        let decoded = try JSONDecoder().decode(GatewayConfig.self, from: JSONEncoder().encode(c))
        #expect(decoded == c)
    }

    @Test func mistakesAreReportedWithPaths() throws {
        let found = issues(Self.base + """

            models:
              - name: gpt-4o
                provider: openai
                limits: {tokens_per_minute: lots}
            quotas:
              time_zone: Mars/Olympus
              table_slots: 10
              teams:
                - name: research
                  limits: {}
              redis: {url: "redis://:pw@host:6379"}
            api_keys:
              - name: app
                key_hash: "\(Self.key)"
                models: [gpt-4o]
                team: reserch
                limits: {requests_per_minute: 0, usd_per_month: -5, requests_per_fortnight: 1}
                model_limits:
                  gpt-5: {requests_per_minute: 1}
            """)
        func has(_ path: String, _ text: String) -> Bool { found.contains { $0.path == path && $0.message.contains(text) && $0.line != nil } }
        #expect(has("models[0].limits.tokens_per_minute", "positive whole number"))
        #expect(has("quotas.time_zone", "unknown time zone"))
        #expect(has("quotas.table_slots", "between 1024"))
        #expect(has("quotas.teams[0].limits", "no limit set"))
        #expect(has("quotas.redis.url", "no password in the URL"))
        #expect(has("api_keys[0].team", "did you mean \"research\""), "\(found)")
        #expect(has("api_keys[0].limits.requests_per_minute", "positive whole number"))
        #expect(has("api_keys[0].limits.usd_per_month", "positive amount of US dollars"))
        #expect(has("api_keys[0].limits.requests_per_fortnight", "unknown key"))
        #expect(has("api_keys[0].model_limits.gpt-5", "unknown model"))
        let budget = issues(Self.base + "\n    budget: {requests_per_minute: 5}\nmodels: [{name: m, provider: openai}]\n")
        #expect(budget.contains { $0.path == "providers[0].budget.requests_per_minute" && $0.message.contains("unknown key") })
    }

    @Test func redisURLs() {
        #expect(ConfigCompiler.parseRedisURL("redis://localhost") ?? ("", 0, 0) == ("localhost", 6379, 0))
        #expect(ConfigCompiler.parseRedisURL("redis://[::1]:7000/3") ?? ("", 0, 0) == ("::1", 7000, 3))
        #expect(ConfigCompiler.parseRedisURL("rediss://host") == nil)
        #expect(ConfigCompiler.parseRedisURL("redis://host:99999") == nil)
        #expect(ConfigCompiler.parseRedisURL("redis://host/16") == nil)
    }
}
