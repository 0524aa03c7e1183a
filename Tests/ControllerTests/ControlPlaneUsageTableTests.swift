import Foundation
import SharedState
import Testing
import TollgateTesting
@testable import Controller

/// The data plane's usage aggregates in shared memory: series per key × model × interval,
/// exact counts under concurrent writers, reclamation only of uploaded, long-ended series.
@Suite struct ControlPlaneUsageTableTests {
    static let t0: Int64 = 1_800_000_000  // a multiple of 60

    @Test func recordsSeriesPerKeyModelAndInterval() throws {
        let dir = try TempDirectory()
        let table = try UsageTable.openOrCreate(path: dir.file("usage.shm"), capacity: 64, intervalSeconds: 60)
        table.record(.init(key: "app", model: "gpt-4o", inputTokens: 10, outputTokens: 5, costNanoUSD: 1_500, latencyMs: 40), nowSeconds: Self.t0 + 1)
        table.record(.init(key: "app", model: "gpt-4o", inputTokens: 7, outputTokens: 3, costNanoUSD: 500, latencyMs: 3000, error: nil), nowSeconds: Self.t0 + 59)
        table.record(.init(key: "app", model: "gpt-4o", latencyMs: 2, error: .rateLimited), nowSeconds: Self.t0 + 60)
        table.record(.init(key: "app", model: "claude", latencyMs: 2, error: .guardrail), nowSeconds: Self.t0 + 2)
        table.record(.init(key: "other", model: "gpt-4o", latencyMs: 70_000, error: .upstream), nowSeconds: Self.t0 + 3)

        let series = table.snapshot().sorted { ($0.intervalStart, $0.key, $0.model) < ($1.intervalStart, $1.key, $1.model) }
        #expect(series.map { "\($0.intervalStart - Self.t0) \($0.key) \($0.model)" } == ["0 app claude", "0 app gpt-4o", "0 other gpt-4o", "60 app gpt-4o"])
        let first = series[1]
        #expect(first[.requests] == 2)
        #expect(first[.inputTokens] == 17)
        #expect(first[.outputTokens] == 8)
        #expect(first[.costNanoUSD] == 2_000)
        #expect(first[.latencyMsSum] == 3040)
        #expect(first[.latencyBucket1] == 1)  // 40 ms ≤ 50
        #expect(first[.latencyBucket7] == 1)  // 3000 ms ≤ 5000
        #expect(series[0][.guardrailBlocks] == 1)
        #expect(series[2][.errorsUpstream] == 1)
        #expect(series[2][.latencyBucket11] == 1)  // +Inf
        #expect(series[3][.errorsRateLimited] == 1)
        #expect(series[3][.requests] == 1)

        // A second process maps the same file and sees the same series; so does a third that
        // "creates" it (it exists, so it opens it).
        let again = try UsageTable.openOrCreate(path: dir.file("usage.shm"), capacity: 16, intervalSeconds: 10)
        #expect(again.sourceID == table.sourceID)
        #expect(again.intervalSeconds == 60)
        #expect(again.snapshot().count == 4)
    }

    @Test func errorClassesFollowStatusAndCode() {
        #expect(UsageTable.ErrorClass.of(status: 200, code: nil) == nil)
        #expect(UsageTable.ErrorClass.of(status: 403, code: "guardrail_blocked") == .guardrail)
        #expect(UsageTable.ErrorClass.of(status: 400, code: "guardrail_blocked") == .guardrail)
        #expect(UsageTable.ErrorClass.of(status: 403, code: "waf_blocked") == .auth)
        #expect(UsageTable.ErrorClass.of(status: 429, code: "budget_exceeded") == .rateLimited)
        #expect(UsageTable.ErrorClass.of(status: 404, code: nil) == .client)
        #expect(UsageTable.ErrorClass.of(status: 503, code: nil) == .upstream)
    }

    @Test func concurrentWritersLoseNothing() throws {
        let dir = try TempDirectory()
        let table = try UsageTable.openOrCreate(path: dir.file("usage.shm"), capacity: 256, intervalSeconds: 60)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for i in 0..<2000 {
                table.record(.init(key: "k\(i % 4)", model: "m", inputTokens: 3, outputTokens: 1, latencyMs: UInt64(worker)), nowSeconds: Self.t0)
            }
        }
        let series = table.snapshot()
        // Two writers claiming the same new series at once may each take a slot (a claim is
        // never waited for: a writer killed mid-claim must not stall the others). That is
        // harmless: rows are keyed by slot and the control plane sums them; no count is lost.
        #expect(Set(series.map(\.key)) == ["k0", "k1", "k2", "k3"])
        #expect(series.count >= 4 && series.count <= 4 * 8)
        for k in 0..<4 {
            #expect(series.filter { $0.key == "k\(k)" }.map { $0[.requests] }.reduce(0, +) == 4000)
        }
        #expect(series.map { $0[.requests] }.reduce(0, +) == 16_000)
        #expect(series.map { $0[.inputTokens] }.reduce(0, +) == 48_000)
        #expect(table.droppedCount == 0)
    }

    @Test func aFullTableCountsDroppedRecords() throws {
        let dir = try TempDirectory()
        let table = try UsageTable.openOrCreate(path: dir.file("usage.shm"), capacity: 16, intervalSeconds: 60)
        for i in 0..<20 { table.record(.init(key: "k\(i)", model: "m", latencyMs: 1), nowSeconds: Self.t0) }
        #expect(table.snapshot().count == 16)
        #expect(table.droppedCount == 4)
    }

    @Test func reclaimFreesOnlyUploadedLongEndedSeries() throws {
        let dir = try TempDirectory()
        let table = try UsageTable.openOrCreate(path: dir.file("usage.shm"), capacity: 16, intervalSeconds: 60)
        table.record(.init(key: "app", model: "m", latencyMs: 1), nowSeconds: Self.t0)
        let seen = try #require(table.snapshot().first)
        let ended = Self.t0 + 60 + UsageTable.reclaimGraceSeconds
        #expect(!table.reclaim(seen, nowSeconds: ended), "inside the grace period")
        table.record(.init(key: "app", model: "m", latencyMs: 1), nowSeconds: Self.t0 + 1)
        #expect(!table.reclaim(seen, nowSeconds: ended + 1), "a request arrived after the snapshot: not everything was uploaded")
        let current = try #require(table.snapshot().first)
        #expect(table.reclaim(current, nowSeconds: ended + 1))
        #expect(table.snapshot().isEmpty)
        #expect(table.reclaimedCount == 1)
        // The slot is claimed afresh, with zeroed counters.
        table.record(.init(key: "app", model: "m", latencyMs: 1), nowSeconds: ended + 1)
        #expect(table.snapshot().first?[.requests] == 1)
    }

    @Test func aForeignFileIsRefused() throws {
        let dir = try TempDirectory()
        let path = try dir.write("usage.shm", String(repeating: "x", count: 4096))
        #expect(throws: ControlBlock.Error.badMagic(path: path)) { try UsageTable.open(path: path) }
    }

    @Test func longNamesAreCutAtACharacterBoundary() throws {
        let dir = try TempDirectory()
        let table = try UsageTable.openOrCreate(path: dir.file("usage.shm"), capacity: 16, intervalSeconds: 60)
        table.record(.init(key: "k" + String(repeating: "é", count: 100), model: "m", latencyMs: 1), nowSeconds: Self.t0)
        let key = try #require(table.snapshot().first?.key)
        #expect(key.utf8.count == 127)
        #expect(key == "k" + String(repeating: "é", count: 63))
    }

    final class Calls: @unchecked Sendable {
        var bodies: [Data] = []
        var failure: (any Error)?
    }

    @Test func aFailedBatchIsResentUnchangedAndARefusedOneDropped() throws {
        let dir = try TempDirectory()
        let table = try UsageTable.openOrCreate(path: dir.file("usage.shm"), capacity: 16, intervalSeconds: 60)
        table.record(.init(key: "app", model: "m", latencyMs: 1), nowSeconds: Self.t0)
        let calls = Calls()
        let uploader = UsageUploader(table: table) { body in
            calls.bodies.append(body)
            if let failure = calls.failure { throw failure }
        }
        calls.failure = ControlPlaneSource.Failure("unreachable")
        guard case .failed(_, let id) = uploader.uploadOnce(nowSeconds: Self.t0) else { Issue.record("not failed"); return }
        // New traffic meanwhile does not change the batch being retried.
        table.record(.init(key: "app", model: "m", latencyMs: 1), nowSeconds: Self.t0)
        guard case .failed(_, id) = uploader.uploadOnce(nowSeconds: Self.t0) else { Issue.record("not the same batch"); return }
        #expect(calls.bodies.count == 2 && calls.bodies[0] == calls.bodies[1])
        calls.failure = UsageUploader.Rejected(description: "422")
        guard case .rejected(_, id) = uploader.uploadOnce(nowSeconds: Self.t0) else { Issue.record("not rejected"); return }
        // Then the series' newer count goes out in a new batch, and nothing after that.
        calls.failure = nil
        guard case .uploaded(1, let next) = uploader.uploadOnce(nowSeconds: Self.t0), next != id else { Issue.record("no new batch"); return }
        #expect(uploader.uploadOnce(nowSeconds: Self.t0) == .idle)
        #expect(String(decoding: calls.bodies.last ?? Data(), as: UTF8.self).contains("\"requests\":2"))
    }

    /// The worker's per-request cost, in thread CPU time (debug build: an upper bound).
    @Test func aRecordCostsMicroseconds() throws {
        let dir = try TempDirectory()
        let table = try UsageTable.openOrCreate(path: dir.file("usage.shm"), capacity: 4096, intervalSeconds: 60)
        func cpuNanos() -> Int64 {
            var ts = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
            return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
        }
        let sample = UsageTable.Sample(key: "team-search-production", model: "gpt-4o-mini", inputTokens: 812, outputTokens: 95,
                                       costNanoUSD: 178_800, latencyMs: 420)
        let n = 200_000
        let start = cpuNanos()
        for i in 0..<n { table.record(sample, nowSeconds: Self.t0 + Int64(i % 60)) }
        let perRecord = Double(cpuNanos() - start) / Double(n)
        print("usage record: \(Int(perRecord)) ns thread CPU per record (\(n) records)")
        #expect(table.snapshot().first?[.requests] == UInt64(n))
        #expect(perRecord < 20_000)
    }
}
