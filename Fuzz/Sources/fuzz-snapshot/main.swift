import Config
import Foundation
import FuzzSupport
import Glibc

// `fuzz-snapshot --write-seeds DIR CONFIG.yaml…` writes seed inputs from real configs (what
// Fuzz/make-corpus.py cannot build: the payload is the encoder's JSON of a compiled config).
let arguments = CommandLine.arguments
if arguments.count >= 3, arguments[1] == "--write-seeds" {
    // Placeholder credentials for every `*_env` the examples name; the process environment
    // wins (e.g. GOOGLE_APPLICATION_CREDENTIALS for production.yaml's Vertex provider).
    let seedEnvironment = ["OPENAI_API_KEY", "VLLM_API_KEY", "AZURE_GATEWAY_KEY", "GEMINI_API_KEY", "ANTHROPIC_API_KEY",
                           "CONTENT_SAFETY_KEY", "REDIS_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
        .reduce(into: [String: String]()) { $0[$1] = "seed" }
        .merging(ProcessInfo.processInfo.environment) { _, process in process }
    for (i, path) in arguments.dropFirst(3).enumerated() {
        do {
            let config = try ConfigLoader.load(path: path, environment: seedEnvironment)
            let file = try SnapshotFile.encode(config, generation: 7, createdAtUnixMs: 1_700_000_000_000)
            // Selector 0: the whole file as bytes; selector 1: the payload, framed by the target.
            FileManager.default.createFile(atPath: "\(arguments[2])/config-\(i)-file", contents: Data([0, 0xFF] + file))
            FileManager.default.createFile(atPath: "\(arguments[2])/config-\(i)-payload", contents: Data([1, 7] + file.dropFirst(SnapshotFile.headerLength)))
        } catch {
            print("\(path): \(error)")
            exit(1)
        }
    }
    exit(0)
}
exit(runLibFuzzer(fuzzSnapshot))
