/// One series of a data plane's usage as uploaded: cumulative counts of one API key × model
/// in one interval, from one usage table (`source`) and slot. Counts only grow, which is what
/// lets the store keep the largest it has seen instead of adding (see `recordUsage`).
public struct UsageRecord: Sendable, Equatable {
    public static let latencyBucketCount = 12

    public var slot: Int64
    public var intervalStart: Int64
    public var key: String
    public var model: String
    /// The key's team when the batch arrived ("" for none).
    public var team: String
    public var counts: UsageCounts

    public init(slot: Int64, intervalStart: Int64, key: String, model: String, team: String, counts: UsageCounts) {
        self.slot = slot
        self.intervalStart = intervalStart
        self.key = key
        self.model = model
        self.team = team
        self.counts = counts
    }
}

/// The additive part of usage: what one series holds and what a query sums.
public struct UsageCounts: Sendable, Equatable {
    public var requests: Int64 = 0
    public var inputTokens: Int64 = 0
    public var outputTokens: Int64 = 0
    public var costNanoUSD: Int64 = 0
    public var latencyMsSum: Int64 = 0
    /// Counts per latency bucket (bounds in the API layer), `UsageRecord.latencyBucketCount` long.
    public var latencyBuckets: [Int64] = Array(repeating: 0, count: UsageRecord.latencyBucketCount)
    public var errorsClient: Int64 = 0
    public var errorsAuth: Int64 = 0
    public var errorsRateLimited: Int64 = 0
    public var errorsUpstream: Int64 = 0
    public var guardrailBlocks: Int64 = 0

    public init() {}

    /// Column name → value, in the table's column order.
    var columns: [(String, Int64)] {
        var out: [(String, Int64)] = [("requests", requests), ("input_tokens", inputTokens), ("output_tokens", outputTokens),
                                      ("cost_nano_usd", costNanoUSD), ("latency_ms_sum", latencyMsSum)]
        for i in 0..<UsageRecord.latencyBucketCount { out.append(("latency_b\(i)", i < latencyBuckets.count ? latencyBuckets[i] : 0)) }
        out += [("errors_client", errorsClient), ("errors_auth", errorsAuth), ("errors_rate_limited", errorsRateLimited),
                ("errors_upstream", errorsUpstream), ("guardrail_blocks", guardrailBlocks)]
        return out
    }

    static var columnNames: [String] { UsageCounts().columns.map(\.0) }

    init(row: SQLRow) throws(StoreError) {
        requests = try row.int("requests")
        inputTokens = try row.int("input_tokens")
        outputTokens = try row.int("output_tokens")
        costNanoUSD = try row.int("cost_nano_usd")
        latencyMsSum = try row.int("latency_ms_sum")
        latencyBuckets = []
        for i in 0..<UsageRecord.latencyBucketCount { latencyBuckets.append(try row.int("latency_b\(i)")) }
        errorsClient = try row.int("errors_client")
        errorsAuth = try row.int("errors_auth")
        errorsRateLimited = try row.int("errors_rate_limited")
        errorsUpstream = try row.int("errors_upstream")
        guardrailBlocks = try row.int("guardrail_blocks")
    }
}

/// A usage question: one org, a time range, bucketed, grouped by some of key, model, team.
public struct UsageQuery: Sendable, Equatable {
    public enum Dimension: String, Sendable, CaseIterable {
        case key, model, team

        var column: String { self == .key ? "key_name" : rawValue }
    }

    public var orgID: String
    /// Unix seconds, `from` inclusive, `to` exclusive (of the intervals' starts).
    public var from: Int64
    public var to: Int64
    public var bucketSeconds: Int64
    public var groupBy: [Dimension]
    public var key: String?
    public var model: String?
    /// nil: every team (and keys without one); else only these.
    public var teams: [String]?
    public var limit: Int

    public init(orgID: String, from: Int64, to: Int64, bucketSeconds: Int64, groupBy: [Dimension], key: String? = nil, model: String? = nil,
                teams: [String]? = nil, limit: Int = 1000) {
        self.orgID = orgID
        self.from = from
        self.to = to
        self.bucketSeconds = bucketSeconds
        self.groupBy = groupBy
        self.key = key
        self.model = model
        self.teams = teams
        self.limit = limit
    }
}

/// One answer row: a bucket and the grouped dimensions' values, with the summed counts.
public struct UsageTotal: Sendable, Equatable {
    public var bucketStart: Int64
    public var key: String?
    public var model: String?
    public var team: String?
    public var counts: UsageCounts
}
