import Config
import Foundation
import NIOCore
import SharedState
import Testing
import TollgateCore
@testable import Worker

/// The worker's side of quotas: compiled plans, estimates, headers, error bodies, and a
/// reservation settled exactly once against a real table file.
@Suite struct QuotaAdmissionTests {
    static func config(_ keyLimits: GatewayConfig.LimitSet?, redis: Bool = false) -> GatewayConfig {
        var c = GatewayConfig(listeners: [], providers: [.init(name: "p", kind: .openai, baseURL: "https://api.openai.com/v1")],
                              models: [.init(name: "m", route: "r", limits: .init(limits: [.init(name: "tokens_per_minute", metric: .tokens, amount: 1000, window: .rolling(seconds: 60))]))],
                              routes: [.init(name: "r", priorities: [.init(backends: [.init(provider: "p", model: "gpt-4o")])], maxAttempts: 1)],
                              apiKeys: [.init(name: "k", keyHash: "sha256:" + String(repeating: "a", count: 64), models: ["*"], team: "t", limits: keyLimits,
                                              modelLimits: ["m": .init(limits: [.init(name: "requests_per_minute", metric: .requests, amount: 5, window: .rolling(seconds: 60))])])])
        c.quotas.teams = [.init(name: "t", limits: .init(limits: [.init(name: "usd_per_month", metric: .microUSD, amount: 10_000_000, window: .calendarMonth)], onRedisDown: .closed))]
        if redis { c.quotas.redis = .init(host: "127.0.0.1", port: 6379) }
        return c
    }

    @Test func planCompilesEveryScope() throws {
        let plan = QuotaPlan(Self.config(.init(limits: [.init(name: "concurrent_requests", metric: .concurrent, amount: 2, window: .concurrent)])))
        let limits = plan.limits(key: "k", model: "m")
        #expect(limits.map(\.scope) == ["key:k|model:m", "key:k", "team:t", "model:m"])
        #expect(limits.allSatisfy { $0.definition.sharing == .local }, "no Redis: every limit is pod-local")
        #expect(plan.limits(key: "other", model: "x").isEmpty)

        let clustered = QuotaPlan(Self.config(.init(limits: [.init(name: "concurrent_requests", metric: .concurrent, amount: 2, window: .concurrent)]), redis: true))
        let shared = clustered.limits(key: "k", model: "m")
        #expect(shared.first { $0.scope == "team:t" }?.definition.sharing == .clusterFailClosed)
        #expect(shared.first { $0.scope == "key:k" }?.definition.sharing == .local, "concurrency never leaves the pod")
        #expect(shared.first { $0.scope == "model:m" }?.definition.sharing == .clusterFailOpen)
        let leased = shared.filter { $0.definition.sharing != .local }.allSatisfy { $0.isLeased }
        #expect(leased, "cluster limits are leased")
        // strict: true with Redis: checked in Redis per request, counted locally in the table.
        var strictConfig = Self.config(.init(limits: [.init(name: "requests_per_minute", metric: .requests, amount: 9, window: .rolling(seconds: 60))], strict: true), redis: true)
        strictConfig.quotas.redis?.syncIntervalMs = 100
        let strictPlan = QuotaPlan(strictConfig)
        let strictKey = try #require(strictPlan.limits(key: "k", model: "m").first { $0.scope == "key:k" })
        #expect(strictKey.definition.strict && !strictKey.isLeased && strictPlan.isStrict(strictKey))
        #expect(strictPlan.leaseWait == .milliseconds(1_100), "two Redis timeouts and a sync interval")
        // Same definitions, same slots: a reload keeps the counters.
        #expect(QuotaPlan(Self.config(nil)).limits(key: "k", model: "m").first?.baseKey == plan.limits(key: "k", model: "m").first?.baseKey)
    }

    @Test func estimatesBoundTheRequest() throws {
        let runtime = try RuntimeConfig(Self.config(nil), generation: 1)
        let route = try #require(runtime.routesByName["r"])
        let chat = QuotaEstimate.usage(bodyBytes: 400, maxTokens: 1000, endpoint: .chatCompletions, route: route)
        #expect(chat.requests == 1 && chat.tokens == 1100)
        #expect(chat.microUSD == UInt64((100 * 2.5 + 1000 * 10.0).rounded(.up)), "gpt-4o: $2.50 in, $10 out per million")
        let unbounded = QuotaEstimate.usage(bodyBytes: 400, maxTokens: nil, endpoint: .chatCompletions, route: route)
        #expect(unbounded.tokens == 100 + UInt64(QuotaEstimate.defaultOutputTokens), "capped at the default, not gpt-4o's 16k")
        #expect(QuotaEstimate.usage(bodyBytes: 400, maxTokens: 50, endpoint: .embeddings, route: route).tokens == 100)
        let actual = QuotaEstimate.actual(Usage(promptTokens: 10, completionTokens: 20, cachedTokens: 0), price: route.highestPrice)
        #expect(actual.tokens == 30 && actual.microUSD == 225)
    }

    @Test func rateLimitHeadersUseOpenAIsFormat() {
        #expect(RateLimitHeaders.duration(nanoseconds: 0) == "0s")
        #expect(RateLimitHeaders.duration(nanoseconds: 20_000_000) == "20ms")
        #expect(RateLimitHeaders.duration(nanoseconds: 1_500_000_000) == "1.5s")
        #expect(RateLimitHeaders.duration(nanoseconds: 360_000_000_000) == "6m0s")
        #expect(RateLimitHeaders.duration(nanoseconds: 3_723_000_000_000) == "1h2m3s")
        #expect(RateLimitHeaders.usd(1_234_500) == "1.2345" && RateLimitHeaders.usd(5_000_000) == "5.00")
        let headers = RateLimitHeaders.headers(for: [
            QuotaStatus(name: "a", unit: .requests, limit: 100, remaining: 40, resetAfterNanoseconds: 1_000_000_000),
            QuotaStatus(name: "b", unit: .requests, limit: 10, remaining: 3, resetAfterNanoseconds: 2_000_000_000),
            QuotaStatus(name: "c", unit: .tokens, limit: 1000, remaining: 900, resetAfterNanoseconds: 6_000_000_000),
            QuotaStatus(name: "d", unit: .microUSD, limit: 5_000_000, remaining: 1_000_000, resetAfterNanoseconds: 0),
        ])
        let map = Dictionary(headers, uniquingKeysWith: { a, _ in a })
        #expect(map["x-ratelimit-limit-requests"] == "10" && map["x-ratelimit-remaining-requests"] == "3" && map["x-ratelimit-reset-requests"] == "2s")
        #expect(map["x-ratelimit-remaining-tokens"] == "900" && map["x-ratelimit-reset-tokens"] == "6s")
        #expect(map["x-tollgate-budget-remaining-usd"] == "1.00" && map["x-tollgate-budget-limit-usd"] == "5.00")

        let anthropic = Dictionary(RateLimitHeaders.headers(for: [QuotaStatus(name: "a", unit: .tokens, limit: 100, remaining: 7, resetAfterNanoseconds: 1_500_000_000)],
                                                            front: .anthropic, unixSeconds: 1_795_608_000), uniquingKeysWith: { a, _ in a })
        #expect(anthropic == ["anthropic-ratelimit-tokens-limit": "100", "anthropic-ratelimit-tokens-remaining": "7",
                              "anthropic-ratelimit-tokens-reset": "2026-11-25T12:00:02Z"])
    }

    @Test func admissionSettlesOnceAgainstARealTable() throws {
        let path = NSTemporaryDirectory() + "tg-quota-\(UUID().uuidString)"
        defer { unlink(path) }
        let table = try QuotaTable.create(path: path, capacity: 1024, workerSlots: 1)
        let limit = try #require(QuotaLimit(LimitDefinition(name: "tokens_per_minute", unit: .tokens, limit: 1000, window: .rolling(periodSeconds: 60)), scope: "key:k"))
        let estimate = QuotaUsage(requests: 1, tokens: 800, microUSD: 0)
        guard case .admitted(let reservation) = table.acquire([QuotaCharge(limit, cost: 800)], worker: 0) else {
            Issue.record("the first request fits")
            return
        }
        let admission = QuotaAdmission(table: table, reservation: reservation, estimate: estimate)
        guard case .rejected = table.acquire([QuotaCharge(limit, cost: 800)], worker: 0) else {
            Issue.record("the reservation holds 800 of 1000")
            return
        }
        admission.settle(.served(Usage(promptTokens: 50, completionTokens: 50, cachedTokens: 0), nil))
        admission.settle(.unknown)  // a second ending changes nothing
        #expect(table.peek(limit).remaining >= 899 && table.peek(limit).remaining <= 900)
        if case .rejected = table.acquire([QuotaCharge(limit, cost: 800)], worker: 0) {
            Issue.record("the refund made room")
        }
    }

    @Test func rejectionsSpeakTheFrontsLanguage() {
        let limit = QuotaLimit(LimitDefinition(name: "usd_per_day", unit: .microUSD, limit: 5_000_000, window: .calendar(.day, timeZone: "UTC")), scope: "team:ml")!
        let status = QuotaStatus(name: "usd_per_day", unit: .microUSD, limit: 5_000_000, remaining: 100, resetAfterNanoseconds: 3_600_000_000_000)
        let error = QuotaFilter.error(QuotaRejection(reason: .limitExceeded, index: 0, status: status, retryAfterNanoseconds: 3_600_000_000_000),
                                      limit: limit, estimate: QuotaUsage(requests: 1, tokens: 10, microUSD: 2000))
        #expect(error.status == 429 && error.code == "budget_exceeded" && error.type == "insufficient_quota")
        #expect(error.message.contains("Budget exhausted for team 'ml'") && error.message.contains("$5.00"))
        #expect(error.headers.contains { $0 == ("retry-after", "3600") })
        #expect(error.anthropicBody.contains("\"rate_limit_error\""))
        #expect(QuotaFilter.describe(scope: "key:app|model:gpt-4o") == "API key 'app' on model 'gpt-4o'")
    }
}
