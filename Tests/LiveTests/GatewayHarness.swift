import Foundation
import Testing
import TollgateTesting

/// Starts the real `tollgate` binary — a mock provider and `tollgate serve` — on ephemeral
/// loopback ports, for one test. Everything it started is killed when it is released.
final class GatewayHarness: @unchecked Sendable {
    static let demoKey = "tg-test-key-1"
    static let demoKeyHash = "sha256:" + sha256Hex(demoKey)
    static let limitedKey = "tg-test-key-limited"
    static let limitedKeyHash = "sha256:" + sha256Hex(limitedKey)
    static let anthropicKey = "sk-ant-live-test"

    /// A service-account key file (RSA key from openssl) shared by every harness of the run;
    /// its token_uri points at each test's mock provider through the config, not the file.
    static let serviceAccountKeyPEM: String = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try! p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }()

    static func writeServiceAccount(in dir: TempDirectory, tokenPort: Int) throws -> String {
        let json: [String: Any] = ["type": "service_account", "project_id": "tg-test", "client_email": "gateway@tg-test.iam.gserviceaccount.com",
                                   "private_key": Self.serviceAccountKeyPEM, "token_uri": "http://127.0.0.1:\(tokenPort)/token"]
        let data = try JSONSerialization.data(withJSONObject: json)
        return try dir.write("service-account.json", String(decoding: data, as: UTF8.self))
    }

    let dir: TempDirectory
    let mock: ChildProcess
    let mockPort: Int
    private(set) var gateway: ChildProcess?
    private(set) var port = 0
    /// The admin listener (`admin:`, `/metrics`), added to every config that has none.
    private(set) var adminPort = 0
    let configPath: String

    /// - Parameter config: builds the YAML from the mock's port and the listener port.
    init(workers: Int = 2, extraLimits: String = "", config: ((Int, Int) -> String)? = nil) throws {
        dir = try TempDirectory()
        mock = try ChildProcess(executable: TestBinary.tollgatePath,
                                arguments: ["mock-provider", "--host", "127.0.0.1", "--port", "0"])
        let line = try mock.waitForOutput(containing: "listening on", timeout: 15)
        guard let portText = line.split(separator: ":").last, let p = Int(portText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw HarnessError("cannot parse the mock provider's port from: \(line)")
        }
        mockPort = p
        port = try freeLoopbackPort()
        let serviceAccount = try Self.writeServiceAccount(in: dir, tokenPort: mockPort)
        var yaml = config?(mockPort, port) ?? Self.defaultConfig(mockPort: mockPort, port: port, extraLimits: extraLimits)
        yaml = yaml.replacingOccurrences(of: "@SERVICE_ACCOUNT@", with: serviceAccount)
        adminPort = try freeLoopbackPort()
        yaml = Self.withAdmin(yaml, port: adminPort)
        configPath = try dir.write("tollgate.yaml", yaml)
        try startGateway(workers: workers)
    }

    func startGateway(workers: Int) throws {
        let gw = try ChildProcess(executable: TestBinary.tollgatePath,
                                  arguments: ["serve", "--config", configPath, "--workers", String(workers),
                                              "--run-dir", dir.file("run")], environment: try environment())
        gateway = gw
        _ = try gw.waitForOutput(containing: "tollgate ready", timeout: 30)
    }

    /// `gatewayEnvironment` plus the EKS IRSA token file (the projected service-account token a
    /// `web_identity` provider exchanges), written into this harness's directory.
    func environment() throws -> [String: String] {
        var env = Self.gatewayEnvironment(mockPort: mockPort)
        env["AWS_WEB_IDENTITY_TOKEN_FILE"] = try dir.write("web-identity-token", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2ln\n")
        return env
    }

    /// The environment the gateway runs with: provider credentials the test config names, and
    /// the container-credentials endpoint ECS/EKS would set (served by the mock).
    static func gatewayEnvironment(mockPort: Int) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:\(mockPort)/mock/aws/container-credentials"
        env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "mock-pod-identity-token"
        env["AWS_ROLE_ARN"] = "arn:aws:iam::111122223333:role/tollgate-bedrock"
        env["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:\(mockPort)/mock/aws/sts"
        env.removeValue(forKey: "AWS_WEB_IDENTITY_TOKEN_FILE")
        env.removeValue(forKey: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
        env.removeValue(forKey: "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        env["ANTHROPIC_TEST_KEY"] = Self.anthropicKey
        env["AWS_ACCESS_KEY_ID"] = "AKIDLIVETEST"
        env["AWS_SECRET_ACCESS_KEY"] = "live-test-secret"
        env.removeValue(forKey: "AWS_SESSION_TOKEN")
        env.removeValue(forKey: "AWS_PROFILE")
        return env
    }

    func rewriteConfig(_ yaml: String) throws {
        _ = try dir.write("tollgate.yaml", Self.withAdmin(yaml, port: adminPort)
            .replacingOccurrences(of: "@SERVICE_ACCOUNT@", with: dir.file("service-account.json")))
    }

    /// `yaml` with an admin listener on `port` unless it declares one.
    static func withAdmin(_ yaml: String, port: Int) -> String {
        yaml.contains("\nadmin:") ? yaml : yaml + "\nadmin:\n  address: 127.0.0.1\n  port: \(port)\n"
    }

    func client() -> HTTPTestClient {
        HTTPTestClient(port: port, timeout: 15)
    }

    /// A client of the admin listener (`/metrics`).
    func adminClient() -> HTTPTestClient {
        HTTPTestClient(port: adminPort, timeout: 15)
    }

    static func defaultConfig(mockPort: Int, port: Int, extraLimits: String = "", chatBackend: String = "gpt-4o-mini") -> String {
        """
        version: 1
        listeners:
          - address: 127.0.0.1
            port: \(port)
        limits:
          shutdown_grace_ms: 10000
        \(extraLimits)
        providers:
          - name: mock
            kind: openai-compatible
            base_url: http://127.0.0.1:\(mockPort)/v1
          - name: flaky
            kind: openai-compatible
            base_url: http://127.0.0.1:\(mockPort)/v1
          - name: dead
            kind: openai-compatible
            base_url: http://127.0.0.1:1/v1
          - name: azure
            kind: azure-openai
            base_url: http://127.0.0.1:\(mockPort)
            api_version: "2024-10-21"
            api_key_env: ANTHROPIC_TEST_KEY
          - name: aws
            kind: bedrock
            base_url: http://127.0.0.1:\(mockPort)
            aws_region: eu-west-1
          - name: aws-instance
            kind: bedrock
            base_url: http://127.0.0.1:\(mockPort)
            aws_region: us-west-2
            aws_credentials_source: imds
            aws_imds_endpoint: http://127.0.0.1:\(mockPort)
          - name: aws-pod
            kind: bedrock
            base_url: http://127.0.0.1:\(mockPort)
            aws_region: us-west-2
            aws_credentials_source: container
          - name: aws-irsa
            kind: bedrock
            base_url: http://127.0.0.1:\(mockPort)
            aws_region: us-west-2
            aws_credentials_source: web_identity
          - name: vertex
            kind: vertex
            base_url: http://127.0.0.1:\(mockPort)
            gcp_project: tg-test
            gcp_location: europe-west4
            service_account_file: "@SERVICE_ACCOUNT@"
          - name: google
            kind: gemini
            base_url: http://127.0.0.1:\(mockPort)
            api_key_env: ANTHROPIC_TEST_KEY
          - name: claude
            kind: anthropic
            base_url: http://127.0.0.1:\(mockPort)
            api_key_env: ANTHROPIC_TEST_KEY
        models:
          - name: gpt-4o-mini
            route: chat
          - name: text-embedding-3-small
            provider: mock
          - name: fallback-503
            route: fallback-503
          - name: fallback-dead
            route: fallback-dead
          - name: all-fail
            route: all-fail
          - name: private-model
            provider: mock
            upstream_model: mock-small
          - name: fallback-hang
            route: fallback-hang
          - name: all-hang
            route: all-hang
          - name: azure-chat
            provider: azure
            upstream_model: my-gpt4o-deployment+echo
          - name: claude-echo
            provider: claude
            upstream_model: claude-3-5-haiku+echo
          - name: bedrock-echo
            provider: aws
            upstream_model: anthropic.claude-3-haiku-20240307-v1:0+echo
          - name: vertex-echo
            provider: vertex
            upstream_model: gemini-2.5-pro+echo
          - name: gemini-echo
            provider: google
            upstream_model: gemini-2.5-flash+echo
          - name: gemini-tool
            provider: google
            upstream_model: gemini-2.5-flash+tool
          - name: bedrock-tool
            provider: aws
            upstream_model: anthropic.claude-3-haiku-20240307-v1:0+tool
          - name: bedrock-instance-role
            provider: aws-instance
            upstream_model: anthropic.claude-3-haiku-20240307-v1:0+echo
          - name: bedrock-pod-identity
            provider: aws-pod
            upstream_model: anthropic.claude-3-haiku-20240307-v1:0+echo
          - name: bedrock-irsa
            provider: aws-irsa
            upstream_model: anthropic.claude-3-haiku-20240307-v1:0+echo
          - name: gemini-embed
            provider: google
            upstream_model: gemini-embedding-001
          - name: vertex-embed
            provider: vertex
            upstream_model: text-embedding-005
          - name: titan-embed
            provider: aws
            upstream_model: amazon.titan-embed-text-v2:0
          - name: cohere-embed
            provider: aws
            upstream_model: cohere.embed-english-v3
          - name: gpt-echo
            provider: mock
            upstream_model: gpt-4o-mini+echo
          - name: gpt-tool
            provider: mock
            upstream_model: gpt-4o-mini+tool
          - name: claude-tool
            provider: claude
            upstream_model: claude-3-5-haiku+tool
          - name: claude-fallback
            route: claude-fallback
          - name: broken-stream
            provider: mock
            upstream_model: mock-small+fault=midstream+tps=100
        routes:
          - name: claude-fallback
            priorities:
              - backends:
                  - provider: claude
                    model: claude-3-5-haiku+fault=503
              - backends:
                  - provider: mock
                    model: mock-small
          - name: fallback-hang
            priorities:
              - backends:
                  - provider: flaky
                    model: mock-small+fault=hang
              - backends:
                  - provider: mock
                    model: mock-small
          - name: all-hang
            priorities:
              - backends:
                  - provider: flaky
                    model: mock-small+fault=hang
          - name: chat
            priorities:
              - backends:
                  - provider: mock
                    model: \(chatBackend)
          - name: fallback-503
            priorities:
              - backends:
                  - provider: flaky
                    model: mock-small+fault=503
              - backends:
                  - provider: mock
                    model: mock-small
          - name: fallback-dead
            priorities:
              - backends:
                  - provider: dead
                    model: mock-small
              - backends:
                  - provider: mock
                    model: mock-small
          - name: all-fail
            priorities:
              - backends:
                  - provider: flaky
                    model: mock-small+fault=500
              - backends:
                  - provider: dead
                    model: mock-small
        api_keys:
          - name: tester
            key_hash: "\(demoKeyHash)"
            models: ["*"]
          - name: limited
            key_hash: "\(limitedKeyHash)"
            models: [gpt-4o-mini]
        """
    }

    deinit {
        if let gateway, gateway.isRunning {
            gateway.signal(SIGKILL)
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// SHA-256 via coreutils (the test targets do not link swift-crypto).
func sha256Hex(_ s: String) -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["sha256sum"]
    let inPipe = Pipe(), outPipe = Pipe()
    p.standardInput = inPipe
    p.standardOutput = outPipe
    try! p.run()
    inPipe.fileHandleForWriting.write(Data(s.utf8))
    try! inPipe.fileHandleForWriting.close()
    let out = outPipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: out, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
}

func auth(_ key: String = GatewayHarness.demoKey) -> [(String, String)] {
    [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")]
}

func chatBody(model: String = "gpt-4o-mini", content: String = "Hello there", stream: Bool = false, includeUsage: Bool = false) -> String {
    var body = "{\"model\":\"\(model)\",\"messages\":[{\"role\":\"user\",\"content\":\"\(content)\"}]"
    if stream { body += ",\"stream\":true" }
    if includeUsage { body += ",\"stream_options\":{\"include_usage\":true}" }
    return body + "}"
}

/// The direct children of `pid`, with their command lines (from /proc).
func childProcesses(of pid: Int32) -> [(pid: Int32, cmdline: String)] {
    var out: [(Int32, String)] = []
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    for entry in entries {
        guard let child = Int32(entry),
              let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 2, Int32(fields[1]) == pid else { continue }
        let cmd = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline")))
            .map { String(decoding: $0.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self) } ?? ""
        out.append((child, cmd))
    }
    return out
}
