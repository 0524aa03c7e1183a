import Foundation
import Testing
import TollgateTesting

/// The official OpenAI Python SDK against the real gateway (`make test` installs it).
@Suite struct SDKLiveTests {
    @Test func openAIPythonSDK() throws {
        let h = try GatewayHarness(workers: 1)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("sdk/openai_sdk_check.py").path
        var env = ProcessInfo.processInfo.environment
        env["TOLLGATE_BASE_URL"] = "http://127.0.0.1:\(h.port)/v1"
        env["TOLLGATE_KEY"] = GatewayHarness.demoKey
        let python = try ChildProcess(executable: "/usr/bin/env", arguments: ["python3", script], environment: env)
        let status = try python.waitForExit(timeout: 60)
        #expect(status == 0, "\(python.output)")
        #expect(python.output.contains("all SDK checks passed"), "\(python.output)")
    }

    @Test func anthropicPythonSDK() throws {
        let h = try GatewayHarness(workers: 1)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("sdk/anthropic_sdk_check.py").path
        var env = ProcessInfo.processInfo.environment
        env["TOLLGATE_BASE_URL"] = "http://127.0.0.1:\(h.port)"
        env["TOLLGATE_KEY"] = GatewayHarness.demoKey
        let python = try ChildProcess(executable: "/usr/bin/env", arguments: ["python3", script], environment: env)
        let status = try python.waitForExit(timeout: 60)
        #expect(status == 0, "\(python.output)")
        #expect(python.output.contains("all SDK checks passed"), "\(python.output)")
    }
}
