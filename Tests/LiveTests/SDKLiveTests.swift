import Foundation
import Testing
import TollgateTesting

/// The official OpenAI and Anthropic Python SDKs against the real gateway, exactly as an
/// application would use them (`make test` installs them into the project's .venv).
@Suite struct SDKLiveTests {
    @Test func openAIPythonSDK() throws {
        try runSDKCheck("openai_sdk_check.py", basePath: "/v1")
    }

    @Test func anthropicPythonSDK() throws {
        try runSDKCheck("anthropic_sdk_check.py", basePath: "")
    }

    /// The project venv's interpreter, where `make test` (scripts/ensure-sdks.py) installs the SDKs.
    static let python: String = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent(".venv/bin/python3").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir.deleteLastPathComponent()
        }
        return "/usr/bin/python3"
    }()

    /// Runs one of the scripts in `sdk/` against a fresh gateway; it prints a line per check.
    private func runSDKCheck(_ script: String, basePath: String) throws {
        let h = try GatewayHarness(workers: 1)
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("sdk/" + script).path
        var env = ProcessInfo.processInfo.environment
        env["TOLLGATE_BASE_URL"] = "http://127.0.0.1:\(h.port)" + basePath
        env["TOLLGATE_KEY"] = GatewayHarness.demoKey
        let python = try ChildProcess(executable: Self.python, arguments: [path], environment: env)
        let status = try python.waitForExit(timeout: 60)
        #expect(status == 0, "\(python.output)")
        #expect(python.output.contains("all SDK checks passed"), "\(python.output)")
    }
}
