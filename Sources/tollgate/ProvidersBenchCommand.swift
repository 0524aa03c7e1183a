import ArgumentParser
import Worker

/// `tollgate providers-bench`: per-translator throughput on one core (request translation of
/// 8 KB and 100 KB agent turns, 200-event response streams), for `make bench`. Hidden: an
/// operator tool. Build with `-c release`; debug numbers mean nothing.
struct ProvidersBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "providers-bench",
        abstract: "Measure provider translation throughput (requests/s and MB/s per core).",
        shouldDisplay: false
    )

    @Option(help: "CPU seconds to measure each case for.")
    var seconds: Double = 1

    @Option(help: "Only the cases whose name contains this.")
    var only: String?

    func run() throws {
        for m in ProvidersBenchmark.run(seconds: seconds, filter: only) {
            let rate = Int(m.runsPerSecond.rounded())
            let mb = (m.megabytesPerSecond * 10).rounded() / 10
            print("\(m.name.rightPad(44)) \(String(rate).leftPad(8))/s  \(String(mb).leftPad(8)) MB/s  (\(m.bytesPerRun) bytes)")
        }
    }
}

private extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
    func rightPad(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}
