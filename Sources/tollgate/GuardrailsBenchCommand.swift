import ArgumentParser
import Guardrails

/// `tollgate guardrails-bench`: scan throughput of the local guardrail checks on one core,
/// for `make bench` (hidden: an operator tool, not part of the user-facing CLI).
struct GuardrailsBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guardrails-bench",
        abstract: "Measure guardrail scan throughput (MB/s per core, all local checks, 8 KB prompt and 100 KB agent body).",
        shouldDisplay: false
    )

    @Option(help: "Seconds to measure each input for.")
    var seconds: Double = 2

    @Flag(help: "Also measure each check on its own.")
    var perCheck = false

    func run() throws {
        for input in GuardrailBenchmark.Input.allCases {
            let m = GuardrailBenchmark.run(seconds: seconds, input: input)
            print("guardrails scan: \(Self.rounded(m.megabytesPerSecond)) MB/s per core (\(input.rawValue), \(m.bytesPerScan) bytes, "
                + "\(m.iterations) scans, all local checks)")
            if perCheck {
                for (check, m) in GuardrailBenchmark.runPerCheck(seconds: seconds / 4, input: input) {
                    print("  \(check): \(Self.rounded(m.megabytesPerSecond)) MB/s")
                }
            }
        }
    }

    static func rounded(_ rate: Double) -> Double { (rate * 10).rounded() / 10 }
}
