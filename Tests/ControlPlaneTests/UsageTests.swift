import ControlPlaneStore
import Foundation
import SharedState
import Testing
import TollgateTesting
@testable import Controller
@testable import ControlPlane

/// Usage end to end below the processes: a data plane's `UsageTable`, its `UsageUploader`
/// against the real API (both backends), and the queries with role scoping. The upload whose
/// response is lost is the case the batch ids exist for: it must count once.
@Suite struct UsageTests {
    struct Lost: Error {}

    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set(_ v: Bool) { lock.withLock { value = v } }
        func take() -> Bool { lock.withLock { defer { value = false }; return value } }
    }

    /// Runs blocking work off the cooperative pool (the server in this process needs it).
    static func blocking<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { c in DispatchQueue.global().async { c.resume(returning: work()) } }
    }

    @Test(arguments: TestBackend.allCases)
    func uploadsCountOnceAndQueriesAreScoped(_ backend: TestBackend) async throws {
        let h = try await APIHarness(backend)
        defer { Task { await h.stop() } }
        let org = try await h.makeOrg()
        let base = "/api/v1/orgs/\(org.id)"
        #expect(try await h.call("POST", "\(base)/api-keys", body: ["name": "search-app", "team": "search"]).status == 201)
        #expect(try await h.call("POST", "\(base)/api-keys", body: ["name": "billing-app", "team": "billing"]).status == 201)
        let dp = try await h.call("POST", "\(base)/dataplanes", body: ["name": "eu"])
        let dpID = try #require(dp["id"]?.stringValue)
        let dir = try TempDirectory()
        let tokenFile = try dir.write("token", try #require(dp["credential"]?.stringValue))
        let settings = ControlPlaneSource.Settings(url: "http://127.0.0.1:\(h.port)", dataplaneID: dpID, tokenFile: tokenFile, stateDirectory: dir.file("state"))

        let table = try UsageTable.openOrCreate(path: dir.file("usage.shm"), capacity: 64, intervalSeconds: 60)
        let now = h.clock.now / 1000
        for _ in 0..<3 {
            table.record(.init(key: "search-app", model: "gpt-4o", inputTokens: 100, outputTokens: 20, costNanoUSD: 1_250_000, latencyMs: 80), nowSeconds: now)
        }
        table.record(.init(key: "billing-app", model: "gpt-4o", latencyMs: 1, error: .rateLimited), nowSeconds: now)
        table.record(.init(key: "billing-app", model: "claude", latencyMs: 1, error: .guardrail), nowSeconds: now)

        // The first upload is applied but its response is lost; the retry is the same batch.
        let loseNext = Flag()
        loseNext.set(true)
        let http = UsageUploader.http(settings)
        let transport: UsageUploader.Transport = { body in
            try http(body)
            if loseNext.take() { throw Lost() }
        }
        let uploader = UsageUploader(table: table, transport: transport)
        let first = await Self.blocking { uploader.uploadOnce(nowSeconds: now) }
        guard case .failed(_, let batchID) = first else { Issue.record("expected a failed upload, got \(first)"); return }
        let retry = await Self.blocking { uploader.uploadOnce(nowSeconds: now) }
        #expect(retry == .uploaded(rows: 3, batchID: batchID))
        #expect(await Self.blocking { uploader.uploadOnce(nowSeconds: now) } == .idle)

        func totals(_ query: String, token: String? = APIHarness.adminToken) async throws -> [String: JSONValue] {
            let r = try await h.call("GET", "\(base)/usage?\(query)", token: token)
            #expect(r.status == 200, "\(r.text)")
            var out: [String: JSONValue] = [:]
            for item in r["items"]?.arrayValue ?? [] {
                let name = [item["key"]?.stringValue, item["model"]?.stringValue, item["team"]?.stringValue].compactMap { $0 }.joined(separator: "/")
                out[name] = item
            }
            return out
        }
        var byKey = try await totals("group_by=key")
        #expect(byKey["search-app"]?["requests"] == .integer(3))
        #expect(byKey["search-app"]?["input_tokens"] == .integer(300))
        #expect(byKey["search-app"]?["output_tokens"] == .integer(60))
        #expect(byKey["search-app"]?["cost_nano_usd"] == .integer(3_750_000))
        #expect(byKey["billing-app"]?["requests"] == .integer(2))
        #expect(byKey["billing-app"]?["errors"]?["rate_limited"] == .integer(1))
        #expect(byKey["billing-app"]?["guardrail_blocks"] == .integer(1))

        // More traffic, then a restarted controller (new uploader, new batch ids) re-sends
        // every series: cumulative rows replace, they never add.
        table.record(.init(key: "search-app", model: "gpt-4o", inputTokens: 1, outputTokens: 1, latencyMs: 5), nowSeconds: now)
        guard case .uploaded(1, let second) = await Self.blocking({ uploader.uploadOnce(nowSeconds: now) }) else { Issue.record("no upload"); return }
        #expect(second != batchID && second.hasSuffix("-2"))
        let restarted = UsageUploader(table: table, transport: http)
        guard case .uploaded(3, _) = await Self.blocking({ restarted.uploadOnce(nowSeconds: now) }) else { Issue.record("no re-upload"); return }
        byKey = try await totals("group_by=key")
        #expect(byKey["search-app"]?["requests"] == .integer(4))
        #expect(byKey["search-app"]?["input_tokens"] == .integer(301))

        // A batch id the control plane has seen is acknowledged as a duplicate and ignored.
        let replay: JSONValue = ["batch_id": .string(batchID), "source": "ff", "rows": [["slot": 1, "start": .integer(now), "key": "search-app", "requests": 1000]]]
        let dup = try await h.call("POST", "/api/v1/dataplanes/\(dpID)/usage", token: try #require(dp["credential"]?.stringValue), body: replay)
        #expect(dup.status == 200)
        #expect(dup["duplicate"] == .bool(true))
        #expect(try await totals("group_by=key")["search-app"]?["requests"] == .integer(4))

        // Grouping by team and model; buckets.
        let byTeamModel = try await totals("group_by=team,model")
        #expect(byTeamModel["gpt-4o/search"]?["requests"] == .integer(4))
        #expect(byTeamModel["gpt-4o/billing"]?["requests"] == .integer(1))
        #expect(byTeamModel["claude/billing"]?["requests"] == .integer(1))
        let all = try await h.call("GET", "\(base)/usage?bucket=60")
        #expect(all["items"]?.arrayValue?.count == 1)
        #expect(all["items"]?.arrayValue?.first?["bucket_start"] == .integer(now - now % 60))
        #expect(all["items"]?.arrayValue?.first?["requests"] == .integer(6))
        let none = try await h.call("GET", "\(base)/usage?from=\(now + 60)&to=\(now + 120)")
        #expect(none["items"]?.arrayValue?.isEmpty == true)

        // Role scoping: a developer (team search) sees only its team's usage.
        let dev = try await totals("group_by=key", token: org.tokens[.developer])
        #expect(Set(dev.keys) == ["search-app"])
        let asked = try await h.call("GET", "\(base)/usage?team=billing", token: org.tokens[.developer])
        #expect(asked.status == 403)
        #expect(Set(try await totals("group_by=key", token: org.tokens[.viewer]).keys) == ["search-app", "billing-app"])
        #expect(try await h.call("GET", "\(base)/usage", token: nil).status == 401)
        let other = try await h.makeOrg("globex")
        #expect(try await h.call("GET", "\(base)/usage", token: other.tokens[.admin]).status == 404)

        // Uploads need the data plane's own credential and a well-formed body.
        #expect(try await h.call("POST", "/api/v1/dataplanes/\(dpID)/usage", token: org.tokens[.admin], body: replay).status == 401)
        let bad = try await h.call("POST", "/api/v1/dataplanes/\(dpID)/usage", token: try #require(dp["credential"]?.stringValue),
                                   body: ["batch_id": "b", "source": "s", "rows": [["slot": 1, "start": 5, "key": "k", "requests": -1]]])
        #expect(bad.status == 422)
        #expect(bad["error"]?["field"]?.stringValue == "rows[0].requests")
        #expect(try await h.call("GET", "\(base)/usage?group_by=colour").status == 400)
    }
}
