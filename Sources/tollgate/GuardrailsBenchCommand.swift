import ArgumentParser
import Guardrails

/// `tollgate guardrails-bench`: scan throughput of the local guardrail checks on one core,
/// for `make bench` (hidden: an operator tool, not part of the user-facing CLI).
struct GuardrailsBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guardrails-bench",
        abstract: "Measure guardrail scan throughput (MB/s per core, 8 KB prompt, all local checks).",
        shouldDisplay: false
    )

    @Option(help: "Seconds to measure for.")
    var seconds: Double = 2

    @Flag(help: "Also measure each check on its own.")
    var perCheck = false

    func run() throws {
        let m = GuardrailBenchmark.run(seconds: seconds)
        let rate = (m.megabytesPerSecond * 10).rounded() / 10
        print("guardrails scan: \(rate) MB/s per core (\(m.bytesPerScan)-byte prompt, \(m.iterations) scans, all local checks)")
        if perCheck {
            for (check, m) in GuardrailBenchmark.runPerCheck(seconds: seconds / 4) {
                print("  \(check): \((m.megabytesPerSecond * 10).rounded() / 10) MB/s")
            }
        }
    }
}
