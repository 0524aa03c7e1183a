import Foundation
import Guardrails
import Testing

/// Precision and recall of every detector on the labelled corpus (printed), with floors.
@Suite struct DetectorCorpusTests {
    struct Score {
        var truePositives = 0, falsePositives = 0, falseNegatives = 0
        var precision: Double { truePositives + falsePositives == 0 ? 1 : Double(truePositives) / Double(truePositives + falsePositives) }
        var recall: Double { truePositives + falseNegatives == 0 ? 1 : Double(truePositives) / Double(truePositives + falseNegatives) }
    }

    static func score(_ detector: PIIDetector) -> (Score, [String]) {
        var score = Score()
        var misses: [String] = []
        for sample in DetectorCorpus.samples[detector] ?? [] {
            var expected = sample.expected
            for found in detector.matches(in: sample.text) {
                if let i = expected.firstIndex(of: found) {
                    expected.remove(at: i)
                    score.truePositives += 1
                } else {
                    score.falsePositives += 1
                    misses.append("false positive \(found.debugDescription) in \(sample.text.debugDescription)")
                }
            }
            score.falseNegatives += expected.count
            misses += expected.map { "missed \($0.debugDescription) in \(sample.text.debugDescription)" }
        }
        return (score, misses)
    }

    @Test(arguments: PIIDetector.allCases)
    func precisionAndRecall(_ detector: PIIDetector) {
        let samples = DetectorCorpus.samples[detector] ?? []
        #expect(samples.filter { $0.expected.isEmpty }.count >= 3, "every detector needs near-miss negatives")
        #expect(samples.filter { !$0.expected.isEmpty }.count >= 2, "every detector needs positives")
        let (score, misses) = Self.score(detector)
        print("guardrails corpus \(detector.rawValue): precision \(String(format: "%.3f", score.precision)) recall \(String(format: "%.3f", score.recall)) (tp \(score.truePositives), fp \(score.falsePositives), fn \(score.falseNegatives))")
        #expect(score.precision >= 0.99, "\(misses)")
        #expect(score.recall >= 0.99, "\(misses)")
    }

    @Test func injectionPrecisionAndRecall() {
        var score = Score()
        var misses: [String] = []
        let detector = GuardrailPolicy.sharedInjectionDetector
        for sample in DetectorCorpus.injection {
            var expected = sample.expected
            for found in detector.matches(in: sample.text) {
                if let i = expected.firstIndex(of: found) {
                    expected.remove(at: i)
                    score.truePositives += 1
                } else {
                    score.falsePositives += 1
                    misses.append("false positive \(found.debugDescription) in \(sample.text.debugDescription)")
                }
            }
            score.falseNegatives += expected.count
            misses += expected.map { "missed \($0.debugDescription) in \(sample.text.debugDescription)" }
        }
        print("guardrails corpus injection: precision \(String(format: "%.3f", score.precision)) recall \(String(format: "%.3f", score.recall)) (tp \(score.truePositives), fp \(score.falsePositives), fn \(score.falseNegatives))")
        #expect(score.precision >= 0.99, "\(misses)")
        #expect(score.recall >= 0.99, "\(misses)")
    }
}
