import Foundation
import SharedState
import TollgateCore

/// Uploads the pod's usage aggregates (`UsageTable`) to the control plane
/// (`POST /api/v1/dataplanes/{id}/usage`), from the poller's thread after each poll.
///
/// Exactly-once in effect, at-least-once on the wire:
/// - A batch that failed (refused, unreachable, or its response lost) is sent again
///   unchanged, with the same batch id; the control plane answers a batch id it already
///   applied with `duplicate` and applies nothing.
/// - Rows carry cumulative counts per series (source, slot, interval, key, model), which the
///   control plane keeps with replace-if-larger, so even a different batch repeating a
///   series (after a controller restart, whose batch ids start afresh) cannot add it twice.
///
/// A series whose upload was acknowledged with its current request count, and whose interval
/// is long over, is reclaimed so its slot serves new series.
///
/// Not thread-safe: one thread at a time (the poller's) calls `uploadOnce`.
final class UsageUploader: @unchecked Sendable {
    /// Sends one batch body; throws when the control plane did not acknowledge it.
    typealias Transport = (_ body: Data) throws -> Void

    enum Outcome: Equatable, Sendable {
        /// Nothing new to upload.
        case idle
        case uploaded(rows: Int, batchID: String)
        case failed(reason: String, batchID: String)
        /// The control plane refused the batch for good (a 4xx other than 401, 408, 429): it
        /// is dropped rather than sent again forever, which would stop every later upload.
        case rejected(reason: String, batchID: String)
    }

    /// What a transport throws for a permanent refusal.
    struct Rejected: Error, CustomStringConvertible {
        var description: String
    }

    struct Row: Codable, Equatable {
        var slot: Int
        var start: Int64
        var key: String
        var model: String
        var requests: UInt64
        var input_tokens: UInt64
        var output_tokens: UInt64
        var cost_nano_usd: UInt64
        var latency_ms_sum: UInt64
        var latency_buckets: [UInt64]
        var errors: [String: UInt64]
        var guardrail_blocks: UInt64
    }

    struct Batch: Codable, Equatable {
        var batch_id: String
        var source: String
        var interval_seconds: Int64
        var rows: [Row]
    }

    private struct SeriesID: Hashable {
        var slot: Int
        var start: Int64
    }

    let table: UsageTable
    let maxRows: Int
    private let transport: Transport
    /// Distinguishes this process's batch ids from an earlier controller's on the same table.
    private let nonce = String(UInt64.random(in: 0...UInt64.max), radix: 36)
    private var sequence: UInt64 = 0
    /// Requests per series the control plane has acknowledged.
    private var acknowledged: [SeriesID: UInt64] = [:]
    /// A batch that was sent but not acknowledged: sent again as is.
    private var pending: (batch: Batch, body: Data)?

    init(table: UsageTable, maxRows: Int = 1000, transport: @escaping Transport) {
        self.table = table
        self.maxRows = max(1, maxRows)
        self.transport = transport
    }

    func uploadOnce(nowSeconds: Int64) -> Outcome {
        let outgoing: (batch: Batch, body: Data)
        if let pending {
            outgoing = pending
        } else {
            let series = table.snapshot()
            var rows: [Row] = []
            for s in series where s[.requests] > 0 {
                let id = SeriesID(slot: s.slot, start: s.intervalStart)
                if acknowledged[id] == s[.requests] {
                    if table.reclaim(s, nowSeconds: nowSeconds) { acknowledged[id] = nil }
                    continue
                }
                if rows.count < maxRows { rows.append(Self.row(s)) }
            }
            // Forget series whose slots someone else reclaimed or reused.
            let live = Set(series.map { SeriesID(slot: $0.slot, start: $0.intervalStart) })
            acknowledged = acknowledged.filter { live.contains($0.key) }
            guard !rows.isEmpty else { return .idle }
            sequence += 1
            let batch = Batch(batch_id: "\(String(table.sourceID, radix: 16))-\(nonce)-\(sequence)", source: String(table.sourceID, radix: 16),
                              interval_seconds: table.intervalSeconds, rows: rows)
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            guard let body = try? encoder.encode(batch) else { return .failed(reason: "cannot encode the usage batch", batchID: batch.batch_id) }
            outgoing = (batch, body)
        }
        var outcome = Outcome.uploaded(rows: outgoing.batch.rows.count, batchID: outgoing.batch.batch_id)
        do {
            try transport(outgoing.body)
        } catch let rejected as Rejected {
            outcome = .rejected(reason: rejected.description, batchID: outgoing.batch.batch_id)
        } catch {
            pending = outgoing
            return .failed(reason: "\(error)", batchID: outgoing.batch.batch_id)
        }
        pending = nil
        for row in outgoing.batch.rows {
            let id = SeriesID(slot: row.slot, start: row.start)
            acknowledged[id] = max(acknowledged[id] ?? 0, row.requests)
        }
        return outcome
    }

    static func row(_ s: UsageTable.Series) -> Row {
        let buckets = (0..<UsageTable.latencyBoundsMs.count).map { s.counters[UsageTable.Counter.latencyBucket0.rawValue + $0] }
        return Row(slot: s.slot, start: s.intervalStart, key: s.key, model: s.model, requests: s[.requests],
                   input_tokens: s[.inputTokens], output_tokens: s[.outputTokens], cost_nano_usd: s[.costNanoUSD],
                   latency_ms_sum: s[.latencyMsSum], latency_buckets: buckets,
                   errors: ["client": s[.errorsClient], "auth": s[.errorsAuth], "rate_limited": s[.errorsRateLimited], "upstream": s[.errorsUpstream]],
                   guardrail_blocks: s[.guardrailBlocks])
    }

    /// The real transport: the data plane's credential, a bounded timeout, 200 or a failure.
    static func http(_ settings: ControlPlaneSource.Settings) -> Transport {
        return { body in
            let token = try ControlPlaneSource.readToken(settings)
            let reply = try BlockingHTTP.exchange("POST", "\(settings.url)/api/v1/dataplanes/\(settings.dataplaneID)/usage",
                                                  headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                                                  body: body, timeout: Double(settings.timeoutMs) / 1000)
            guard reply.status == 200 else {
                let why = "usage upload answered \(reply.status): \(String(decoding: reply.body.prefix(300), as: UTF8.self))"
                if (400..<500).contains(reply.status) && ![401, 408, 429].contains(reply.status) { throw Rejected(description: why) }
                throw ControlPlaneSource.Failure(why)
            }
        }
    }
}
