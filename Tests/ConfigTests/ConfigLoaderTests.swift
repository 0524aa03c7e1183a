import Foundation
import Testing
@testable import Config

@Suite struct ConfigLoaderTests {
    static let hash = APIKeyHash.hash(plaintext: "k")

    static let minimal = """
    version: 1
    listeners: [{address: 127.0.0.1, port: 8080}]
    providers:
      - name: openai
        kind: openai
        base_url: https://api.openai.com/v1/
        api_key_env: OPENAI_API_KEY
    models:
      - name: gpt-4o-mini
        provider: openai
    api_keys:
      - name: app
        key_hash: "\(hash)"
        models: ["*"]
    """

    private func load(_ yaml: String, env: [String: String] = ["OPENAI_API_KEY": "sk-secret-value"]) throws(ConfigLoadError) -> GatewayConfig {
        try ConfigLoader.load(yaml: yaml, source: "test.yaml", environment: env)
    }

    /// The issues of a config that must fail.
    private func issues(_ yaml: String, env: [String: String] = ["OPENAI_API_KEY": "sk-secret-value"]) -> [ConfigIssue] {
        do {
            _ = try load(yaml, env: env)
            Issue.record("expected the config to be rejected")
            return []
        } catch {
            return error.issues
        }
    }

    @Test func minimalConfigCompilesWithDefaults() throws {
        let c = try load(Self.minimal)
        #expect(c.listeners == [.init(address: "127.0.0.1", port: 8080)])
        #expect(c.limits == GatewayConfig.Limits())
        #expect(c.providers.first?.baseURL == "https://api.openai.com/v1", "trailing slash stripped")
        #expect(c.providers.first?.apiKey?.value == "sk-secret-value")
        #expect(c.models == [.init(name: "gpt-4o-mini", route: "model:gpt-4o-mini")])
        #expect(c.routes == [.init(name: "model:gpt-4o-mini", priorities: [.init(backends: [.init(provider: "openai", model: "gpt-4o-mini")])], maxAttempts: 1)])
        #expect(c.apiKeys.first?.keyHash == Self.hash)
    }

    @Test func shippedExamplesAreValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let quick = try ConfigLoader.load(path: root.appendingPathComponent("examples/quickstart.yaml").path, environment: [:])
        #expect(quick.mockProvider == .init(address: "127.0.0.1", port: 9901))
        #expect(quick.models.map(\.name) == ["gpt-4o-mini", "text-embedding-3-small", "demo-fallback", "claude-demo"])
        #expect(quick.routes.first { $0.name == "demo-fallback" }?.priorities.count == 2)
        #expect(quick.apiKeys.first?.keyHash == APIKeyHash.hash(plaintext: "tg-demo-key-change-me"))

        let saPath = NSTemporaryDirectory() + "tg-sa-\(UUID().uuidString).json"
        try #"{"client_email":"sa@p.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n"}"#
            .write(toFile: saPath, atomically: true, encoding: .utf8)
        defer { unlink(saPath) }
        let prod = try ConfigLoader.load(path: root.appendingPathComponent("examples/production.yaml").path,
                                         environment: ["OPENAI_API_KEY": "sk-1", "VLLM_API_KEY": "v-1", "AZURE_GATEWAY_KEY": "a-1", "ANTHROPIC_API_KEY": "sk-ant-1", "GEMINI_API_KEY": "g-1",
                                                      "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret",
                                                      "GOOGLE_APPLICATION_CREDENTIALS": saPath, "CONTENT_SAFETY_KEY": "cs-1"])
        #expect(prod.routes.first { $0.name == "chat-tiered" }?.priorities.count == 3)
        #expect(prod.limits.maxBodyBytes == 10 * 1024 * 1024)
        #expect(prod.apiKeys.count == 2)
        #expect(prod.waf == WAFConfig(enabled: false, excludeArgs: ["json.metadata.notes"]))
        #expect(prod.guardrails.defaultPolicies == ["baseline"] && prod.guardrails.policies.count == 4)
        #expect(prod.providers.first { $0.kind == .vertex }?.vertex?.tokenURI == "https://oauth2.googleapis.com/token")
    }

    @Test func humanSizesAndDurations() throws {
        let yaml = Self.minimal + """

        limits:
          max_body_bytes: 2MiB
          max_header_bytes: 16KiB
          request_read_timeout_ms: 15s
          idle_timeout_ms: 2m
          upstream_connect_timeout_ms: 250ms
          shutdown_grace_ms: 45000
        """
        let c = try load(yaml)
        #expect(c.limits.maxBodyBytes == 2 * 1024 * 1024)
        #expect(c.limits.maxHeaderBytes == 16 * 1024)
        #expect(c.limits.requestReadTimeoutMs == 15_000)
        #expect(c.limits.idleTimeoutMs == 120_000)
        #expect(c.limits.upstreamConnectTimeoutMs == 250)
        #expect(c.limits.shutdownGraceMs == 45_000)
    }

    @Test func unknownKeysGetADidYouMeanHint() {
        let found = issues(Self.minimal.replacingOccurrences(of: "base_url:", with: "base_ur:"))
        #expect(found.contains(.init(path: "providers[0].base_ur", message: "unknown key (did you mean \"base_url\"?)", line: 6)))
        #expect(found.contains { $0.path == "providers[0].base_url" && $0.message == "required key is missing" })
        let far = issues(Self.minimal + "\nzzz: 1\n")
        #expect(far.first?.path == "zzz")
        #expect(far.first?.message.contains("valid keys here: version, listeners") == true)
    }

    @Test func typeErrorsSayWhatWasExpected() {
        let found = issues(Self.minimal.replacingOccurrences(of: "port: 8080", with: "port: eighty"))
        #expect(found == [.init(path: "listeners[0].port", message: "expected an integer, got \"eighty\"", line: 2)])
        let list = issues(Self.minimal.replacingOccurrences(of: "listeners: [{address: 127.0.0.1, port: 8080}]", with: "listeners: 127.0.0.1"))
        #expect(list.first?.message == "expected a list, got \"127.0.0.1\"")
    }

    @Test func unknownReferencesAreNamedWithTheirPath() {
        let yaml = Self.minimal + """

        routes:
          - name: r
            priorities:
              - backends:
                  - provider: opneai
                    model: gpt-4o
        """
        let found = issues(yaml)
        #expect(found.contains { $0.path == "routes[0].priorities[0].backends[0].provider" && $0.message == "unknown provider \"opneai\" (did you mean \"openai\"?)" })
        #expect(found.first { $0.path.hasPrefix("routes[0]") }?.line == 19)
    }

    @Test func everyIssueIsReportedInOneRun() {
        var yaml = Self.minimal.replacingOccurrences(of: "port: 8080", with: "port: 70000")
        yaml = yaml.replacingOccurrences(of: "kind: openai", with: "kind: openia")
        yaml = yaml.replacingOccurrences(of: "key_hash: \"\(Self.hash)\"", with: "key_hash: \"md5:abc\"")
        let found = issues(yaml)
        #expect(found.map(\.path).sorted() == ["api_keys[0].key_hash", "listeners[0].port", "providers[0].kind"])
        #expect(found.contains { $0.message == "port must be between 1 and 65535, got 70000" })
        #expect(found.contains { $0.message.hasPrefix("unknown provider kind \"openia\" (did you mean \"openai\"?)") })
        #expect(found.contains { $0.message.contains("`tollgate keys hash`") })
    }

    @Test func duplicatesAreRejected() {
        let yaml = """
        version: 1
        listeners: [{address: 127.0.0.1, port: 8080}, {address: 127.0.0.1, port: 8080}]
        providers:
          - {name: p, kind: openai-compatible, base_url: "http://localhost:8000"}
          - {name: p, kind: openai-compatible, base_url: "http://localhost:8001"}
        models: [{name: m, provider: p}, {name: m, provider: p}]
        api_keys:
          - {name: a, key_hash: "\(Self.hash)", models: [m]}
          - {name: b, key_hash: "\(Self.hash)", models: [m]}
        """
        let found = issues(yaml)
        #expect(found.contains { $0.path == "listeners[1]" && $0.message.hasPrefix("duplicate listener") })
        #expect(found.contains { $0.path == "providers[1].name" && $0.message == "duplicate provider name \"p\"" })
        #expect(found.contains { $0.path == "models[1].name" && $0.message == "duplicate model name \"m\"" })
        #expect(found.contains { $0.path == "api_keys[1].key_hash" && $0.message.contains("already used by api_keys[0]") })
    }

    @Test func modelNeedsExactlyOneOfRouteAndProvider() {
        let both = issues(Self.minimal.replacingOccurrences(of: "    provider: openai\n", with: "    provider: openai\n    route: x\n"))
        #expect(both.contains { $0.path == "models[0]" && $0.message.contains("not both") })
        let neither = issues(Self.minimal.replacingOccurrences(of: "    provider: openai\n", with: ""))
        #expect(neither.contains { $0.path == "models[0]" && $0.message.hasPrefix("set route") })
    }

    @Test func missingCredentialIsAnErrorAndSecretsNeverAppear() {
        let missing = issues(Self.minimal, env: [:])
        #expect(missing == [.init(path: "providers[0].api_key_env", message: "environment variable OPENAI_API_KEY is not set or empty", line: 7)])
        // The secret is set but something else is wrong: no message may contain it.
        let other = issues(Self.minimal.replacingOccurrences(of: "port: 8080", with: "port: 0"))
        #expect(!other.isEmpty)
        let all = other.map(\.description).joined() + ConfigLoadError(source: "x", issues: other).description
        #expect(!all.contains("sk-secret-value"))
        #expect(Secret("sk-secret-value").description == "<redacted>")
        #expect("\(Secret("sk-secret-value"))" == "<redacted>")
    }

    @Test func credentialFromFile() throws {
        let path = NSTemporaryDirectory() + "tg-key-\(UUID().uuidString)"
        try "  file-secret\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let c = try load(Self.minimal.replacingOccurrences(of: "api_key_env: OPENAI_API_KEY", with: "api_key_file: \(path)"), env: [:])
        #expect(c.providers.first?.apiKey?.value == "file-secret")
        let bad = issues(Self.minimal.replacingOccurrences(of: "api_key_env: OPENAI_API_KEY", with: "api_key_file: /nonexistent/key"), env: [:])
        #expect(bad.first?.path == "providers[0].api_key_file")
    }

    @Test func limitsAreChecked() {
        let yaml = Self.minimal + "\nlimits:\n  max_header_bytes: 200000\n  idle_timeout_ms: soon\n  max_body_bytes: 0\n"
        let found = issues(yaml)
        #expect(found.contains { $0.path == "limits.max_header_bytes" && $0.message.contains("80 KiB") })
        #expect(found.contains { $0.path == "limits.idle_timeout_ms" && $0.message.contains("expected milliseconds") })
        #expect(found.contains { $0.path == "limits.max_body_bytes" && $0.message.contains("greater than zero") })
    }

    @Test func yamlSyntaxErrorsHaveALine() {
        let found = issues("version: 1\nlisteners: [\n  {address: 1\n")
        #expect(found.count == 1)
        #expect(found.first?.message.hasPrefix("YAML syntax error") == true)
        #expect(found.first?.line != nil)
    }

    @Test func keyOverridesMustReferToUsableModelsAndRoutes() {
        let yaml = Self.minimal.replacingOccurrences(of: "    models: [\"*\"]", with: "    models: [gpt-4o-mini]\n    routes: {gpt-4o-mini: premium, other: model:gpt-4o-mini}")
        let found = issues(yaml)
        #expect(found.contains { $0.path == "api_keys[0].routes.gpt-4o-mini" && $0.message == "unknown route \"premium\"" })
        #expect(found.contains { $0.path == "api_keys[0].routes.other" && $0.message.contains("may not use model") })
    }

    @Test func azureProvidersNeedAnAPIVersion() throws {
        let azure = Self.minimal.replacingOccurrences(of: "kind: openai\n", with: "kind: azure-openai\n")
        let missing = issues(azure)
        #expect(missing.contains { $0.path == "providers[0].api_version" && $0.message.contains("need api_version") })
        let c = try load(azure.replacingOccurrences(of: "api_key_env: OPENAI_API_KEY", with: "api_key_env: OPENAI_API_KEY\n    api_version: \"2024-10-21\"\n    auth_scheme: bearer"))
        #expect(c.providers.first?.apiVersion == "2024-10-21")
        #expect(c.providers.first?.authScheme == .bearer)
        let misplaced = issues(Self.minimal.replacingOccurrences(of: "api_key_env: OPENAI_API_KEY", with: "api_key_env: OPENAI_API_KEY\n    api_version: x"))
        #expect(misplaced.contains { $0.path == "providers[0].api_version" && $0.message.contains("only applies to kind azure-openai") })
    }

    @Test func pricingOverridesTheCatalog() throws {
        let c = try load(Self.minimal + "\npricing:\n  gpt-4o-mini: {input: 1, output: 2}\n  my-llama: {input: 0.5, output: 0.5, cached_input: 0.1}\n")
        #expect(c.catalog["gpt-4o-mini"]?.price == .init(inputPerMillion: 1, outputPerMillion: 2, cachedInputPerMillion: nil))
        #expect(c.catalog["gpt-4o-mini"]?.contextWindow == 128_000, "a price override keeps the entry's limits")
        #expect(c.catalog["my-llama"]?.price?.cachedInputPerMillion == 0.1)
        #expect(c.catalog["gpt-4o"] == ModelCatalog.builtIn["gpt-4o"], "built-ins stay")
        let bad = issues(Self.minimal + "\npricing:\n  x: {input: cheap}\n")
        #expect(bad.contains { $0.path == "pricing.x.input" && $0.message.contains("USD per million tokens") && $0.line != nil })
        #expect(bad.contains { $0.path == "pricing.x.output" && $0.message == "required key is missing" })
    }

    @Test func theBuiltInCatalogIsValidAndMatchesCloudIDs() throws {
        #expect(ModelCatalog.builtInIssues.isEmpty, "\(ModelCatalog.builtInIssues)")
        #expect(ModelCatalog.builtIn.count >= 30)
        let table = ModelCatalog.builtIn
        #expect(ModelCatalog.info(for: "us.anthropic.claude-sonnet-4-20250514-v1:0", in: table) == table["claude-sonnet-4"])
        #expect(ModelCatalog.info(for: "anthropic.claude-3-haiku-20240307-v1:0", in: table) == table["claude-3-haiku"])
        #expect(ModelCatalog.info(for: "claude-3-5-haiku@20241022", in: table) == table["claude-3-5-haiku"])
        #expect(ModelCatalog.info(for: "amazon.titan-embed-text-v2:0", in: table)?.capabilities == [.embeddings])
        #expect(ModelCatalog.info(for: "gpt-4o-mini-2024-07-18", in: table)?.maxOutputTokens == 16_384)
        #expect(ModelCatalog.info(for: "gpt-4o-minix", in: table) == nil, "a prefix must end at a separator")
        #expect(ModelCatalog.info(for: "gpt-4o-audio-preview", in: table) == nil, "another model, another price")
        #expect(ModelCatalog.info(for: "gemini-2.5-flash-preview-05-20", in: table) == table["gemini-2.5-flash"])
        #expect(ModelCatalog.info(for: "gemini-2.5-flash-lite-001", in: table) == table["gemini-2.5-flash-lite"])
        #expect(ModelCatalog.info(for: "mistral.unknown-model", in: table) == nil)
        #expect(table["text-embedding-3-small"]?.lacks(.chat) == true && table["gpt-4o"]?.lacks(.chat) == false)
        #expect(GatewayConfig.ModelInfo().lacks(.embeddings) == false, "an entry without capabilities refuses nothing")
    }

    @Test func catalogFileReplacesEntriesAndReportsItsOwnLines() throws {
        let dir = NSTemporaryDirectory() + "tg-catalog-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = dir + "/models.yaml"
        try "models:\n  gpt-4o: {input: 2, output: 8, context_window: 64000}\n  house-llm: {context_window: 32768, capabilities: [chat, tools]}\n"
            .write(toFile: good, atomically: true, encoding: .utf8)
        let c = try load(Self.minimal + "\ncatalog_file: \(good)\npricing:\n  house-llm: {input: 0.1, output: 0.2}\n")
        #expect(c.catalog["gpt-4o"] == .init(price: .init(inputPerMillion: 2, outputPerMillion: 8, cachedInputPerMillion: nil), contextWindow: 64_000))
        #expect(c.catalog["house-llm"]?.capabilities == [.chat, .tools] && c.catalog["house-llm"]?.price?.outputPerMillion == 0.2)
        #expect(c.catalog["gpt-4o-mini"] == ModelCatalog.builtIn["gpt-4o-mini"], "entries the file leaves out stay built in")

        let bad = dir + "/bad.yaml"
        try "models:\n  a: {input: 1}\n  b: {capabilities: [chat, telepathy]}\n  c: {context_window: 10, max_output_tokens: 20}\n"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let found = issues(Self.minimal + "\ncatalog_file: \(bad)\n")
        #expect(found.contains { $0.path == "catalog_file" && $0.message.contains("bad.yaml:2") && $0.message.contains("both input and output") })
        #expect(found.contains { $0.message.contains("bad.yaml:3") && $0.message.contains("unknown capability \"telepathy\"") })
        #expect(found.contains { $0.message.contains("models.c.max_output_tokens") && $0.message.contains("larger than context_window") })
        #expect(issues(Self.minimal + "\ncatalog_file: \(dir)/missing.yaml\n").contains { $0.path == "catalog_file" && $0.message.contains("cannot read") })
    }

    @Test func bedrockCredentialSources() throws {
        let bedrock = Self.minimal.replacingOccurrences(of: "kind: openai\n", with: "kind: bedrock\n")
            .replacingOccurrences(of: "    api_key_env: OPENAI_API_KEY\n", with: "    aws_region: us-east-1\n")
        func with(_ lines: String) -> String { bedrock.replacingOccurrences(of: "    aws_region: us-east-1\n", with: "    aws_region: us-east-1\n" + lines) }
        let imds = try load(with("    aws_credentials_source: imds\n"), env: [:])
        #expect(imds.providers.first?.awsCredentialSource == .imds(endpoint: "http://169.254.169.254"))
        #expect(imds.providers.first?.awsCredentials == nil, "fetched by the controller, not at compile time")
        let custom = try load(with("    aws_credentials_source: imds\n    aws_imds_endpoint: http://[fd00:ec2::254]/\n"), env: [:])
        #expect(custom.providers.first?.awsCredentialSource == .imds(endpoint: "http://[fd00:ec2::254]"))
        let pod = try load(with("    aws_credentials_source: container\n"),
                           env: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/var/run/token"])
        #expect(pod.providers.first?.awsCredentialSource == .container(url: "http://169.254.170.23/v1/credentials", authorizationToken: nil, authorizationTokenFile: "/var/run/token"))
        let ecs = try load(with("    aws_credentials_source: container\n"), env: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"])
        #expect(ecs.providers.first?.awsCredentialSource == .container(url: "http://169.254.170.2/v2/credentials/abc", authorizationToken: nil, authorizationTokenFile: nil))
        let process = try load(with("    aws_credentials_source: process\n    aws_credential_process: /usr/local/bin/creds --profile x\n"), env: [:])
        #expect(process.providers.first?.awsCredentialSource == .process(command: "/usr/local/bin/creds --profile x"))

        #expect(issues(with("    aws_credentials_source: container\n"), env: [:]).contains { $0.message.contains("AWS_CONTAINER_CREDENTIALS_FULL_URI") })
        let irsa = try load(with("    aws_credentials_source: web_identity\n"),
                            env: ["AWS_ROLE_ARN": "arn:aws:iam::1:role/r", "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"])
        #expect(irsa.providers.first?.awsCredentialSource == .webIdentity(roleARN: "arn:aws:iam::1:role/r",
                                                                           tokenFile: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
                                                                           sessionName: "tollgate", stsEndpoint: "https://sts.us-east-1.amazonaws.com"))
        #expect(issues(with("    aws_credentials_source: web_identity\n"), env: [:]).contains { $0.message.contains("AWS_ROLE_ARN") })
        #expect(issues(with("    aws_credentials_source: process\n"), env: [:]).contains { $0.path == "providers[0].aws_credential_process" })
        #expect(issues(with("    aws_credentials_source: imdss\n"), env: [:]).contains { $0.message.contains("did you mean \"imds\"") })
        let misplaced = issues(with("    aws_imds_endpoint: http://x\n"), env: ["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s"])
        #expect(misplaced.contains { $0.path == "providers[0].aws_imds_endpoint" && $0.message.contains("only applies to aws_credentials_source: imds") })
        let mixed = issues(with("    aws_credentials_source: imds\n    aws_profile: prod\n"), env: [:])
        #expect(mixed.contains { $0.path == "providers[0].aws_profile" && $0.message.contains("only applies to static credentials") })
    }

    @Test func bedrockCredentialsFromEnvOrFile() throws {
        let bedrock = Self.minimal.replacingOccurrences(of: "kind: openai\n", with: "kind: bedrock\n")
            .replacingOccurrences(of: "    api_key_env: OPENAI_API_KEY\n", with: "    aws_region: us-east-1\n")
        let fromEnv = try load(bedrock, env: ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s3cr3t", "AWS_SESSION_TOKEN": "tok"])
        #expect(fromEnv.providers.first?.awsCredentials == .init(accessKeyID: "AKID", secretAccessKey: Secret("s3cr3t"), sessionToken: Secret("tok")))
        #expect(fromEnv.providers.first?.awsRegion == "us-east-1")

        let path = NSTemporaryDirectory() + "tg-aws-\(UUID().uuidString)"
        try "[default]\naws_access_key_id = A1\naws_secret_access_key = S1\n\n[prod]\naws_access_key_id=A2\naws_secret_access_key=S2\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let fromFile = try load(bedrock.replacingOccurrences(of: "    aws_region: us-east-1\n", with: "    aws_region: us-east-1\n    aws_credentials_file: \(path)\n    aws_profile: prod\n"), env: [:])
        #expect(fromFile.providers.first?.awsCredentials?.accessKeyID == "A2")

        let none = issues(bedrock, env: ["HOME": "/nonexistent"])
        #expect(none.contains { $0.message.hasPrefix("no AWS credentials") })
        let noRegion = issues(bedrock.replacingOccurrences(of: "    aws_region: us-east-1\n", with: ""), env: ["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "S"])
        #expect(noRegion.contains { $0.path == "providers[0].aws_region" })
        #expect(!none.map(\.description).joined().contains("s3cr3t"))
    }

    @Test func apiKeyHashes() {
        #expect(APIKeyHash.hash(plaintext: "abc") == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(APIKeyHash.digest(ofStored: APIKeyHash.hash(plaintext: "abc"))?.count == 32)
        #expect(APIKeyHash.digest(ofStored: "sha256:xyz") == nil)
        #expect(APIKeyHash.digest(ofStored: "md5:" + String(repeating: "a", count: 64)) == nil)
        #expect(APIKeyHash.digest(ofStored: "sha256:" + String(repeating: "g", count: 64)) == nil)
    }
}
