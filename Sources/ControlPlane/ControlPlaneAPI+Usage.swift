import ControlPlaneStore
import Foundation

/// Usage: data planes upload aggregates (`POST /api/v1/dataplanes/{id}/usage`, with the
/// data-plane credential); users query them (`GET /api/v1/orgs/{org}/usage`), a developer
/// only for their own teams' keys.
extension ControlPlaneAPI {
    static let maxUsageRows = 5000
    static let usageDimensions = UsageQuery.Dimension.allCases.map(\.rawValue)

    func uploadUsage(_ request: APIRequest, id: String) async throws(APIError) -> APIResponse {
        let dp = try await authenticateDataplane(request, id: id)
        var r = try FieldReader(try request.requireBody(), allowed: ["batch_id", "source", "interval_seconds", "rows"])
        let batchID = r.string("batch_id", required: true, maxLength: 128)
        let source = r.string("source", required: true, maxLength: 64)
        let interval = r.int("interval_seconds", in: 1...86_400)
        let rows = r.array("rows", required: true, maxCount: Self.maxUsageRows) ?? []
        try r.finish()
        let keyTeams: [String: String]
        do {
            keyTeams = Dictionary(try await store.allResources(orgID: dp.orgID).filter { $0.kind == ResourceKind.apiKey.rawValue }
                .map { ($0.name, $0.body["team"]?.stringValue ?? "") }, uniquingKeysWith: { a, _ in a })
        } catch { throw storeFailure(error) }
        var records: [UsageRecord] = []
        var issues: [APIError.Issue] = []
        for (i, row) in rows.enumerated() {
            do throws(APIError) {
                records.append(try Self.usageRecord(row, teams: keyTeams))
            } catch {
                issues += error.issues.map { APIError.Issue(path: "rows[\(i)].\($0.path)", message: $0.message) }
                if error.issues.isEmpty { issues.append(.init(path: "rows[\(i)]", message: error.message)) }
            }
            if issues.count >= 20 { break }
        }
        if !issues.isEmpty { throw .validation(issues) }
        do {
            let applied = try await store.recordUsage(dataplaneID: dp.id, orgID: dp.orgID, batchID: batchID ?? "", source: source ?? "",
                                                      intervalSeconds: interval ?? 60, records: records, nowMs: clock())
            return .json(.object(["batch_id": .string(batchID ?? ""), "rows": .integer(Int64(records.count)), "duplicate": .bool(!applied)]))
        } catch { throw storeFailure(error) }
    }

    /// One uploaded row, checked field by field (counts are non-negative 64-bit integers).
    static func usageRecord(_ row: JSONValue, teams: [String: String]) throws(APIError) -> UsageRecord {
        var r = try FieldReader(row, allowed: ["slot", "start", "key", "model", "requests", "input_tokens", "output_tokens", "cost_nano_usd",
                                               "latency_ms_sum", "latency_buckets", "errors", "guardrail_blocks"])
        let count: ClosedRange<Int64> = 0...Int64.max
        let slot = r.int("slot", in: 0...(1 << 20))
        let start = r.int("start", in: 0...253_402_300_799)
        let key = r.string("key", required: true, maxLength: 128)
        let model = r.string("model", maxLength: 128) ?? ""
        var counts = UsageCounts()
        counts.requests = r.int("requests", in: count) ?? 0
        counts.inputTokens = r.int("input_tokens", in: count) ?? 0
        counts.outputTokens = r.int("output_tokens", in: count) ?? 0
        counts.costNanoUSD = r.int("cost_nano_usd", in: count) ?? 0
        counts.latencyMsSum = r.int("latency_ms_sum", in: count) ?? 0
        counts.guardrailBlocks = r.int("guardrail_blocks", in: count) ?? 0
        if let buckets = r.array("latency_buckets", maxCount: UsageRecord.latencyBucketCount) {
            for (i, b) in buckets.enumerated() where i < counts.latencyBuckets.count {
                guard let v = b.intValue, v >= 0 else {
                    r.issue("latency_buckets[\(i)]", "must be a non-negative integer")
                    continue
                }
                counts.latencyBuckets[i] = v
            }
        }
        if let errors = r.object("errors") {
            var e = try FieldReader(errors, allowed: ["client", "auth", "rate_limited", "upstream"])
            counts.errorsClient = e.int("client", in: count) ?? 0
            counts.errorsAuth = e.int("auth", in: count) ?? 0
            counts.errorsRateLimited = e.int("rate_limited", in: count) ?? 0
            counts.errorsUpstream = e.int("upstream", in: count) ?? 0
            do throws(APIError) { try e.finish() } catch { for issue in error.issues { r.issue("errors.\(issue.path)", issue.message) } }
        }
        if slot == nil { r.issue("slot", "required") }
        if start == nil { r.issue("start", "required") }
        try r.finish()
        return UsageRecord(slot: slot ?? 0, intervalStart: start ?? 0, key: key ?? "", model: model, team: teams[key ?? ""] ?? "", counts: counts)
    }

    /// `GET /api/v1/orgs/{org}/usage?from=&to=&bucket=&group_by=key,model,team&key=&model=&team=`
    /// (Unix seconds; bucket in seconds, default 3600; the range defaults to the last 24 hours).
    func queryUsage(_ request: APIRequest, org: String) async throws(APIError) -> APIResponse {
        let principal = try await authenticate(request)
        try requireOrg(principal, org)
        let now = clock() / 1000
        func seconds(_ name: String, default value: Int64, in range: ClosedRange<Int64>) throws(APIError) -> Int64 {
            guard let text = request.query[name] else { return value }
            guard let v = Int64(text), range.contains(v) else {
                throw .badRequest("\(name) must be an integer in \(range.lowerBound)...\(range.upperBound)", field: name)
            }
            return v
        }
        let to = try seconds("to", default: now + 1, in: 0...253_402_300_799)
        let from = try seconds("from", default: to - 86_400, in: 0...253_402_300_799)
        let bucket = try seconds("bucket", default: 3600, in: 60...(86_400 * 366))
        guard from < to else { throw .badRequest("from must be before to", field: "from") }
        var groupBy: [UsageQuery.Dimension] = []
        if let text = request.query["group_by"], !text.isEmpty {
            for part in text.split(separator: ",") {
                guard let d = UsageQuery.Dimension(rawValue: String(part)) else {
                    throw .badRequest("group_by takes a comma-separated subset of \(Self.usageDimensions.joined(separator: ", "))", field: "group_by")
                }
                if !groupBy.contains(d) { groupBy.append(d) }
            }
        }
        var teams: [String]? = request.query["team"].map { [$0] }
        if case .user(_, _, _, let role, let own) = principal, role == .developer {
            if let asked = teams?.first, !own.contains(asked) {
                throw .forbidden("role developer sees only the usage of its own teams (\(own.joined(separator: ", ")))")
            }
            teams = teams ?? own
        }
        let query = UsageQuery(orgID: org, from: from, to: to, bucketSeconds: bucket, groupBy: groupBy, key: request.query["key"],
                               model: request.query["model"], teams: teams, limit: 5000)
        do {
            _ = try await store.organization(id: org)
            let totals = try await store.usage(query)
            return .page(totals.map(Self.usageView), next: nil)
        } catch { throw storeFailure(error) }
    }

    static func usageView(_ t: UsageTotal) -> JSONValue {
        let c = t.counts
        var out: [String: JSONValue] = [
            "bucket_start": .integer(t.bucketStart), "requests": .integer(c.requests), "input_tokens": .integer(c.inputTokens),
            "output_tokens": .integer(c.outputTokens), "cost_nano_usd": .integer(c.costNanoUSD),
            "cost_usd": .number(Double(c.costNanoUSD) / 1_000_000_000), "latency_ms_sum": .integer(c.latencyMsSum),
            "latency_buckets": .array(zip(latencyBounds, c.latencyBuckets).map { .object(["le": $0, "count": .integer($1)]) }),
            "errors": .object(["client": .integer(c.errorsClient), "auth": .integer(c.errorsAuth), "rate_limited": .integer(c.errorsRateLimited),
                               "upstream": .integer(c.errorsUpstream)]),
            "guardrail_blocks": .integer(c.guardrailBlocks),
        ]
        if let key = t.key { out["key"] = .string(key) }
        if let model = t.model { out["model"] = .string(model) }
        if let team = t.team { out["team"] = team.isEmpty ? .null : .string(team) }
        return .object(out)
    }

    /// The data plane's latency buckets' upper bounds in ms (`UsageTable.latencyBoundsMs`), the last "+Inf".
    static let latencyBounds: [JSONValue] = [25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000].map { JSONValue.integer($0) } + [.string("+Inf")]

    /// The data-plane credential check, one answer for an unknown id and a wrong credential
    /// (ids cannot be probed).
    func authenticateDataplane(_ request: APIRequest, id: String) async throws(APIError) -> Resource {
        guard let credential = request.bearer() else { throw .unauthorized }
        let dp: Resource
        do { dp = try await store.resource(kind: ResourceKind.dataplane.rawValue, id: id) } catch { throw .unauthorized }
        guard let stored = dp.body["credential_hash"]?.stringValue, Tokens.equal(Tokens.hash(credential), stored) else { throw .unauthorized }
        return dp
    }
}
