import Foundation
import Testing
@testable import SharedState

/// Per-rule counters in the control block: claimed by name, shared by every mapping, exact
/// under contention, and a full table drops (and counts) instead of blocking.
@Suite struct LabeledCountersTests {
    func block() throws -> (ControlBlock, String) {
        let path = NSTemporaryDirectory() + "tg-labeled-\(UUID().uuidString)"
        return (try ControlBlock.create(path: path, workerSlots: 2), path)
    }

    @Test func seriesAreCountedByNameAcrossMappings() throws {
        let (created, path) = try block()
        defer { unlink(path) }
        let other = try ControlBlock.open(path: path)
        created.labeledCounters.add(#"tollgate_waf_rule_matches_total{rule="942100",outcome="block"}"#)
        other.labeledCounters.add(#"tollgate_waf_rule_matches_total{rule="942100",outcome="block"}"#, 2)
        other.labeledCounters.add(#"tollgate_waf_rule_matches_total{rule="941100",outcome="match"}"#)
        let snapshot = created.labeledCounters.snapshot()
        #expect(snapshot.map(\.name) == [#"tollgate_waf_rule_matches_total{rule="941100",outcome="match"}"#,
                                         #"tollgate_waf_rule_matches_total{rule="942100",outcome="block"}"#])
        #expect(snapshot.map(\.count) == [1, 3])
    }

    @Test func exactUnderContentionAndAFullTableDrops() throws {
        let (cb, path) = try block()
        defer { unlink(path) }
        let counters = cb.labeledCounters
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for i in 0..<2_000 { counters.add("series_\(i % 7)_\(t % 2)") }
        }
        let snapshot = counters.snapshot()
        #expect(snapshot.count == 14)
        #expect(snapshot.reduce(0) { $0 + $1.count } == 16_000, "no lost increment")
        for i in 0..<(ControlBlock.labeledCapacity + 10) { counters.add("filler_\(i)") }
        #expect(counters.droppedCount > 0)
        #expect(counters.snapshot().count == ControlBlock.labeledCapacity)
    }

    @Test func labelsAreEscaped() {
        #expect(LabeledCounters.label(#"a"b\c"#) == #"a\"b\\c"#)
        #expect(LabeledCounters.label("x\ny") == #"x\ny"#)
    }
}
