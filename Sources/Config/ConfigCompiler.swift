import Foundation
import Yams

/// The schema walk: reads each section, checks every value and reference, fills defaults and
/// resolves credentials. Issues accumulate in `reader`; the result is only used when there
/// are none.
struct ConfigCompiler {
    var reader = YAMLReader()
    let environment: [String: String]
    /// Names declared by entries that have other errors still count for references, so one
    /// mistake is reported once instead of cascading into "unknown provider" elsewhere.
    var declaredProviders: [String] = []
    var declaredRoutes: [String] = []
    var declaredTeams: [String] = []
    var declaredGuardrailPolicies: [String] = []

    init(environment: [String: String]) {
        self.environment = environment
    }

    static let topLevelKeys = ["version", "listeners", "limits", "providers", "models", "routes", "api_keys", "mock_provider", "catalog_file", "pricing", "quotas", "waf", "guardrails", "admin"]

    mutating func compile(_ root: Node) -> GatewayConfig? {
        guard let top = reader.mapping(root, "", allowed: Self.topLevelKeys, required: ["version", "listeners", "providers", "models"]) else {
            return nil
        }
        if let version = reader.int(top["version"], "version"), version != ConfigLoader.supportedVersion {
            reader.issue("version", top["version"], "unsupported config version \(version); this Tollgate reads version \(ConfigLoader.supportedVersion)")
        }
        let listeners = compileListeners(top["listeners"])
        let limits = compileLimits(top["limits"])
        let providers = compileProviders(top["providers"])
        let guardrails = compileGuardrails(top["guardrails"])
        var routes = compileRoutes(top["routes"], providers: declaredProviders)
        let models = compileModels(top["models"], providers: declaredProviders, routes: &routes)
        let quotas = compileQuotas(top["quotas"])
        let keys = compileKeys(top["api_keys"], models: models.map(\.name), routes: declaredRoutes + routes.map(\.name),
                               teams: declaredTeams)
        let mock = compileMock(top["mock_provider"])
        var catalog = compileCatalogFile(top["catalog_file"])
        compilePricing(top["pricing"], into: &catalog)
        var config = GatewayConfig(version: ConfigLoader.supportedVersion, listeners: listeners, limits: limits, providers: providers,
                                   models: models, routes: routes, apiKeys: keys, mockProvider: mock, catalog: catalog)
        config.quotas = quotas
        config.waf = compileWAF(top["waf"])
        config.guardrails = guardrails
        config.admin = compileAdmin(top["admin"], listeners: listeners)
        return config
    }

    // MARK: - Sections

    mutating func compileListeners(_ node: Node?) -> [GatewayConfig.Listener] {
        guard let items = reader.sequence(node, "listeners") else { return [] }
        if items.isEmpty { reader.issue("listeners", node, "at least one listener is required") }
        var out: [GatewayConfig.Listener] = []
        var seen = Set<String>()
        for (i, item) in items.enumerated() {
            let path = "listeners[\(i)]"
            guard let m = reader.mapping(item, path, allowed: ["address", "port"], required: ["address", "port"]) else { continue }
            let address = reader.nonEmptyString(m["address"], "\(path).address")
            let port = reader.int(m["port"], "\(path).port")
            if let address, !Self.isListenAddress(address) {
                reader.issue("\(path).address", m["address"], "\"\(address)\" is not an IP address (use e.g. 127.0.0.1, 0.0.0.0, ::1, :: or localhost)")
            }
            if let port, !(1...65535).contains(port) {
                reader.issue("\(path).port", m["port"], "port must be between 1 and 65535, got \(port)")
            }
            guard let address, let port else { continue }
            if !seen.insert("\(address)|\(port)").inserted {
                reader.issue(path, item, "duplicate listener \(address):\(port)")
            }
            out.append(.init(address: address, port: port))
        }
        return out
    }

    nonisolated(unsafe) static let limitKeys: [(String, WritableKeyPath<GatewayConfig.Limits, Int>, LimitUnit)] = [
        ("max_body_bytes", \.maxBodyBytes, .bytes),
        ("max_header_bytes", \.maxHeaderBytes, .bytes),
        ("request_read_timeout_ms", \.requestReadTimeoutMs, .milliseconds),
        ("idle_timeout_ms", \.idleTimeoutMs, .milliseconds),
        ("upstream_connect_timeout_ms", \.upstreamConnectTimeoutMs, .milliseconds),
        ("upstream_first_byte_timeout_ms", \.upstreamFirstByteTimeoutMs, .milliseconds),
        ("upstream_idle_timeout_ms", \.upstreamIdleTimeoutMs, .milliseconds),
        ("max_connections_per_worker", \.maxConnectionsPerWorker, .count),
        ("upstream_max_idle_connections", \.upstreamMaxIdleConnections, .count),
        ("max_upstream_connections_per_origin", \.maxUpstreamConnectionsPerOrigin, .count),
        ("max_upstream_wait_queue", \.maxUpstreamWaitQueue, .count),
        ("upstream_keepalive_timeout_ms", \.upstreamKeepaliveTimeoutMs, .milliseconds),
        ("shutdown_grace_ms", \.shutdownGraceMs, .milliseconds),
        ("max_retry_after_wait_ms", \.maxRetryAfterWaitMs, .milliseconds),
        ("max_response_collect_bytes", \.maxResponseCollectBytes, .bytes),
        ("max_sse_line_bytes", \.maxSSELineBytes, .bytes),
        ("max_event_frame_bytes", \.maxEventFrameBytes, .bytes),
        ("max_refused_body_bytes", \.maxRefusedBodyBytes, .bytes),
    ]

    /// Upper bounds a limit may not exceed (the parsers' formats, and sanity: a cap of
    /// terabytes is no cap).
    static let limitMaximums: [String: (Int, String)] = [
        "max_header_bytes": (80 * 1024, "80 KiB, the HTTP parser's hard limit"),
        "max_event_frame_bytes": (16 * 1024 * 1024, "16 MiB, the AWS event-stream format's ceiling"),
        "max_sse_line_bytes": (256 * 1024 * 1024, "256 MiB"),
        "max_refused_body_bytes": (64 * 1024 * 1024, "64 MiB"),
        "max_upstream_connections_per_origin": (60_000, "60000 (a worker has fewer ephemeral ports per origin)"),
        "max_upstream_wait_queue": (1_000_000, "1000000"),
    ]

    enum LimitUnit { case bytes, milliseconds, count }

    mutating func compileLimits(_ node: Node?) -> GatewayConfig.Limits {
        var limits = GatewayConfig.Limits()
        guard let node, !YAMLReader.isNull(node) else { return limits }
        guard let m = reader.mapping(node, "limits", allowed: Self.limitKeys.map(\.0)) else { return limits }
        for (key, keyPath, unit) in Self.limitKeys {
            guard let value = m[key] else { continue }
            let path = "limits.\(key)"
            guard let raw = reader.string(value, path) else { continue }
            guard let parsed = Self.parseQuantity(raw, unit: unit) else {
                let hint: String
                switch unit {
                case .bytes: hint = "a byte count such as 1048576, \"512KiB\" or \"10MiB\""
                case .milliseconds: hint = "milliseconds such as 30000, or a duration such as \"250ms\", \"30s\" or \"5m\""
                case .count: hint = "an integer"
                }
                reader.issue(path, value, "expected \(hint), got \"\(raw)\"")
                continue
            }
            let minimum = key == "max_retry_after_wait_ms" ? 0 : 1
            guard parsed >= minimum else {
                reader.issue(path, value, "must be \(minimum == 0 ? "zero or more" : "greater than zero"), got \(parsed)")
                continue
            }
            if let (maximum, why) = Self.limitMaximums[key], parsed > maximum {
                reader.issue(path, value, "must be at most \(maximum) (\(why)), got \(parsed)")
                continue
            }
            limits[keyPath: keyPath] = parsed
        }
        return limits
    }

    mutating func compileProviders(_ node: Node?) -> [GatewayConfig.Provider] {
        guard let items = reader.sequence(node, "providers") else { return [] }
        if items.isEmpty { reader.issue("providers", node, "at least one provider is required") }
        var out: [GatewayConfig.Provider] = []
        var names = Set<String>()
        let kinds = GatewayConfig.ProviderKind.allCases.map(\.rawValue)
        for (i, item) in items.enumerated() {
            let path = "providers[\(i)]"
            guard let m = reader.mapping(item, path, allowed: ["name", "kind", "base_url", "api_key_env", "api_key_file", "headers",
                                                               "api_version", "auth_scheme", "aws_region", "aws_profile",
                                                               "aws_credentials_file", "aws_credentials_source", "aws_imds_endpoint",
                                                               "aws_credential_process", "budget", "gcp_project", "gcp_location",
                                                               "service_account_file"],
                                         required: ["name", "kind", "base_url"]) else { continue }
            let name = checkedName(m["name"], "\(path).name", seen: &names, what: "provider")
            if let name { declaredProviders.append(name) }
            var kind: GatewayConfig.ProviderKind?
            if let k = reader.string(m["kind"], "\(path).kind") {
                kind = GatewayConfig.ProviderKind(rawValue: k)
                if kind == nil {
                    let near = YAMLReader.nearest(k, in: kinds).map { " (did you mean \"\($0)\"?)" } ?? ""
                    reader.issue("\(path).kind", m["kind"], "unknown provider kind \"\(k)\"\(near); valid kinds: \(kinds.joined(separator: ", "))")
                }
            }
            var baseURL = reader.nonEmptyString(m["base_url"], "\(path).base_url")
            if let url = baseURL {
                if let problem = Self.baseURLProblem(url) {
                    reader.issue("\(path).base_url", m["base_url"], problem)
                    baseURL = nil
                } else {
                    var trimmed = url
                    while trimmed.hasSuffix("/") { trimmed.removeLast() }
                    baseURL = trimmed
                }
            }
            let secret = credential(m, path)
            var headers: [String: String] = [:]
            if let h = reader.stringMap(m["headers"], "\(path).headers") {
                for (k, _) in h where !Self.isHTTPToken(k) {
                    reader.issue("\(path).headers.\(k)", m["headers"], "\"\(k)\" is not a valid HTTP header name")
                }
                for reserved in ["host", "content-length", "authorization", "transfer-encoding", "connection"]
                where h.keys.contains(where: { $0.lowercased() == reserved }) {
                    reader.issue("\(path).headers", m["headers"], "header \"\(reserved)\" is set by the gateway and cannot be overridden")
                }
                headers = h
            }
            let apiVersion = reader.nonEmptyString(m["api_version"], "\(path).api_version")
            var authScheme: GatewayConfig.AuthScheme?
            if let scheme = reader.string(m["auth_scheme"], "\(path).auth_scheme") {
                authScheme = GatewayConfig.AuthScheme(rawValue: scheme)
                if authScheme == nil {
                    reader.issue("\(path).auth_scheme", m["auth_scheme"], "unknown auth_scheme \"\(scheme)\"; valid: api-key, bearer")
                }
            }
            if kind == .azureOpenAI, apiVersion == nil, m["api_version"] == nil {
                reader.issue("\(path).api_version", item, "azure-openai providers need api_version (e.g. \"2024-10-21\")")
            }
            if let kind, kind != .azureOpenAI {
                if m["api_version"] != nil { reader.issue("\(path).api_version", m["api_version"], "api_version only applies to kind azure-openai") }
                if m["auth_scheme"] != nil { reader.issue("\(path).auth_scheme", m["auth_scheme"], "auth_scheme only applies to kind azure-openai") }
            }
            var awsRegion: String?
            var awsCredentials: GatewayConfig.AWSCredentials?
            var awsSource: GatewayConfig.AWSCredentialSource?
            if kind == .bedrock {
                awsRegion = reader.nonEmptyString(m["aws_region"], "\(path).aws_region")
                if awsRegion == nil, m["aws_region"] == nil {
                    reader.issue("\(path).aws_region", item, "bedrock providers need aws_region (e.g. us-east-1)")
                }
                switch awsCredentialSource(m, path, region: awsRegion) {
                case .static: awsCredentials = awsCredentialsFor(m, path)
                case .dynamic(let source): awsSource = source
                case .invalid: break
                }
            } else if let kind {
                for key in ["aws_region", "aws_profile", "aws_credentials_file", "aws_credentials_source", "aws_imds_endpoint",
                            "aws_credential_process"] where m[key] != nil {
                    reader.issue("\(path).\(key)", m[key], "\(key) only applies to kind bedrock, not \(kind.rawValue)")
                }
            }
            var vertex: GatewayConfig.VertexSettings?
            if kind == .vertex {
                vertex = vertexSettings(m, path, item: item)
            } else if let kind {
                for key in ["gcp_project", "gcp_location", "service_account_file"] where m[key] != nil {
                    reader.issue("\(path).\(key)", m[key], "\(key) only applies to kind vertex, not \(kind.rawValue)")
                }
            }
            guard let name, let kind, let baseURL else { continue }
            var provider = GatewayConfig.Provider(name: name, kind: kind, baseURL: baseURL, apiKey: secret, headers: headers,
                                                  apiVersion: apiVersion, authScheme: authScheme)
            provider.awsRegion = awsRegion
            provider.awsCredentials = awsCredentials
            provider.awsCredentialSource = awsSource
            provider.budget = limitSet(m["budget"], "\(path).budget", only: [.microUSD])
            provider.vertex = vertex
            out.append(provider)
        }
        return out
    }

    /// Reads `api_key_env` / `api_key_file`. The value itself never appears in an issue.
    mutating func credential(_ m: [String: Node], _ path: String) -> Secret? {
        let env = reader.nonEmptyString(m["api_key_env"], "\(path).api_key_env")
        let file = reader.nonEmptyString(m["api_key_file"], "\(path).api_key_file")
        if env != nil && file != nil {
            reader.issue(path, m["api_key_file"], "set api_key_env or api_key_file, not both")
            return nil
        }
        if let env {
            guard let value = environment[env], !value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                reader.issue("\(path).api_key_env", m["api_key_env"], "environment variable \(env) is not set or empty")
                return nil
            }
            return Secret(value.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                reader.issue("\(path).api_key_file", m["api_key_file"], "cannot read \(file)")
                return nil
            }
            let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty else {
                reader.issue("\(path).api_key_file", m["api_key_file"], "\(file) is empty")
                return nil
            }
            return Secret(value)
        }
        return nil
    }

    /// Vertex AI: project, location and a service-account key file (`service_account_file`,
    /// else GOOGLE_APPLICATION_CREDENTIALS). The private key never appears in an issue.
    mutating func vertexSettings(_ m: [String: Node], _ path: String, item: Node) -> GatewayConfig.VertexSettings? {
        let project = reader.nonEmptyString(m["gcp_project"], "\(path).gcp_project")
        let location = reader.nonEmptyString(m["gcp_location"], "\(path).gcp_location")
        if m["gcp_project"] == nil { reader.issue("\(path).gcp_project", item, "vertex providers need gcp_project") }
        if m["gcp_location"] == nil { reader.issue("\(path).gcp_location", item, "vertex providers need gcp_location (e.g. us-central1)") }
        guard let file = reader.nonEmptyString(m["service_account_file"], "\(path).service_account_file") ?? environment["GOOGLE_APPLICATION_CREDENTIALS"] else {
            reader.issue("\(path).service_account_file", item, "no service account: set service_account_file or GOOGLE_APPLICATION_CREDENTIALS")
            return nil
        }
        guard let data = FileManager.default.contents(atPath: file),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            reader.issue("\(path).service_account_file", m["service_account_file"] ?? item, "cannot read a service-account JSON key from \(file)")
            return nil
        }
        guard let email = json["client_email"] as? String, let key = json["private_key"] as? String else {
            reader.issue("\(path).service_account_file", m["service_account_file"] ?? item, "\(file) has no client_email/private_key (is it a service-account key?)")
            return nil
        }
        guard let project, let location else { return nil }
        return .init(project: project, location: location, clientEmail: email, privateKeyPEM: Secret(key),
                     tokenURI: json["token_uri"] as? String ?? "https://oauth2.googleapis.com/token")
    }

    enum AWSSourceChoice { case `static`, dynamic(GatewayConfig.AWSCredentialSource), invalid }

    /// `aws_credentials_source: static | imds | container | process | web_identity`; static (the default)
    /// reads `awsCredentialsFor`; an invalid choice has its issue recorded already.
    mutating func awsCredentialSource(_ m: [String: Node], _ path: String, region: String?) -> AWSSourceChoice {
        let source = reader.nonEmptyString(m["aws_credentials_source"], "\(path).aws_credentials_source") ?? "static"
        let extra: [(String, String)] = [("aws_imds_endpoint", "imds"), ("aws_credential_process", "process")]
        for (key, owner) in extra where m[key] != nil && source != owner {
            reader.issue("\(path).\(key)", m[key], "\(key) only applies to aws_credentials_source: \(owner)")
        }
        if source != "static" {
            for key in ["aws_profile", "aws_credentials_file"] where m[key] != nil {
                reader.issue("\(path).\(key)", m[key], "\(key) only applies to static credentials, not aws_credentials_source: \(source)")
            }
        }
        switch source {
        case "static":
            return .static
        case "imds":
            let endpoint = reader.nonEmptyString(m["aws_imds_endpoint"], "\(path).aws_imds_endpoint")
                ?? environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254"
            guard endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://") else {
                reader.issue("\(path).aws_imds_endpoint", m["aws_imds_endpoint"], "expected an http:// or https:// URL, got \"\(endpoint)\"")
                return .invalid
            }
            return .dynamic(.imds(endpoint: endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint))
        case "container":
            let url = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"].flatMap { $0.isEmpty ? nil : $0 }
                ?? environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"].flatMap { $0.isEmpty ? nil : "http://169.254.170.2" + $0 }
            guard let url else {
                reader.issue("\(path).aws_credentials_source", m["aws_credentials_source"],
                             "container credentials need AWS_CONTAINER_CREDENTIALS_FULL_URI or AWS_CONTAINER_CREDENTIALS_RELATIVE_URI in the environment (set by ECS and EKS Pod Identity)")
                return .invalid
            }
            return .dynamic(.container(url: url, authorizationToken: environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"].flatMap { $0.isEmpty ? nil : Secret($0) },
                              authorizationTokenFile: environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"].flatMap { $0.isEmpty ? nil : $0 }))
        case "web_identity":
            guard let role = environment["AWS_ROLE_ARN"].flatMap({ $0.isEmpty ? nil : $0 }),
                  let tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"].flatMap({ $0.isEmpty ? nil : $0 }) else {
                reader.issue("\(path).aws_credentials_source", m["aws_credentials_source"],
                             "web_identity credentials need AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE in the environment (set by EKS for a service account with an IAM role)")
                return .invalid
            }
            let stsRegion = region ?? environment["AWS_REGION"] ?? "us-east-1"
            var sts = environment["AWS_ENDPOINT_URL_STS"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://sts.\(stsRegion).amazonaws.com"
            if sts.hasSuffix("/") { sts.removeLast() }
            let session = environment["AWS_ROLE_SESSION_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? "tollgate"
            return .dynamic(.webIdentity(roleARN: role, tokenFile: tokenFile, sessionName: session, stsEndpoint: sts))
        case "process":
            guard let command = reader.nonEmptyString(m["aws_credential_process"], "\(path).aws_credential_process") else {
                if m["aws_credential_process"] == nil {
                    reader.issue("\(path).aws_credential_process", m["aws_credentials_source"], "aws_credentials_source: process needs aws_credential_process (the command to run)")
                }
                return .invalid
            }
            return .dynamic(.process(command: command))
        default:
            let near = YAMLReader.nearest(source, in: ["static", "imds", "container", "process", "web_identity"]).map { " (did you mean \"\($0)\"?)" } ?? ""
            reader.issue("\(path).aws_credentials_source", m["aws_credentials_source"], "unknown credentials source \"\(source)\"\(near); use static, imds, container, process or web_identity")
            return .invalid
        }
    }

    /// AWS credentials: `aws_credentials_file` (+ `aws_profile`, default "default"), else the
    /// environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), else the
    /// shared file ~/.aws/credentials. Values never appear in an issue.
    mutating func awsCredentialsFor(_ m: [String: Node], _ path: String) -> GatewayConfig.AWSCredentials? {
        let profile = reader.nonEmptyString(m["aws_profile"], "\(path).aws_profile") ?? environment["AWS_PROFILE"] ?? "default"
        var file = reader.nonEmptyString(m["aws_credentials_file"], "\(path).aws_credentials_file")
        if file == nil, m["aws_profile"] == nil, let id = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"],
           !id.isEmpty, !secret.isEmpty {
            return .init(accessKeyID: id, secretAccessKey: Secret(secret), sessionToken: environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : Secret($0) })
        }
        file = file ?? environment["AWS_SHARED_CREDENTIALS_FILE"] ?? (environment["HOME"].map { $0 + "/.aws/credentials" })
        guard let file, let data = FileManager.default.contents(atPath: file) else {
            reader.issue(path, m["aws_credentials_file"] ?? m["kind"], "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or aws_credentials_file (+ aws_profile)")
            return nil
        }
        var section = ""
        var values: [String: String] = [:]
        for raw in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard section == profile, let eq = line.firstIndex(of: "=") else { continue }
            values[line[..<eq].trimmingCharacters(in: .whitespaces)] = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        }
        guard let id = values["aws_access_key_id"], let secret = values["aws_secret_access_key"] else {
            reader.issue("\(path).aws_profile", m["aws_profile"] ?? m["kind"], "profile \"\(profile)\" in \(file) has no aws_access_key_id/aws_secret_access_key")
            return nil
        }
        return .init(accessKeyID: id, secretAccessKey: Secret(secret), sessionToken: values["aws_session_token"].map { Secret($0) })
    }

    mutating func compileRoutes(_ node: Node?, providers: [String]) -> [GatewayConfig.Route] {
        guard let items = reader.sequence(node, "routes") else { return [] }
        var out: [GatewayConfig.Route] = []
        var names = Set<String>()
        for (i, item) in items.enumerated() {
            let path = "routes[\(i)]"
            guard let m = reader.mapping(item, path, allowed: ["name", "priorities", "max_attempts", "guardrails", "forward_query"], required: ["name", "priorities"]) else { continue }
            let name = checkedName(m["name"], "\(path).name", seen: &names, what: "route")
            if let name { declaredRoutes.append(name) }
            var priorities: [GatewayConfig.Priority] = []
            var valid = true
            if let levels = reader.sequence(m["priorities"], "\(path).priorities") {
                if levels.isEmpty {
                    reader.issue("\(path).priorities", m["priorities"], "a route needs at least one priority")
                    valid = false
                }
                for (p, level) in levels.enumerated() {
                    let ppath = "\(path).priorities[\(p)]"
                    guard let lm = reader.mapping(level, ppath, allowed: ["backends"], required: ["backends"]),
                          let backends = reader.sequence(lm["backends"], "\(ppath).backends") else {
                        valid = false
                        continue
                    }
                    if backends.isEmpty {
                        reader.issue("\(ppath).backends", lm["backends"], "a priority needs at least one backend")
                        valid = false
                    }
                    var compiled: [GatewayConfig.Backend] = []
                    for (b, backend) in backends.enumerated() {
                        if let be = compileBackend(backend, "\(ppath).backends[\(b)]", providers: providers) {
                            compiled.append(be)
                        } else {
                            valid = false
                        }
                    }
                    priorities.append(.init(backends: compiled))
                }
            } else {
                valid = false
            }
            let total = priorities.reduce(0) { $0 + $1.backends.count }
            var maxAttempts = total
            if let n = reader.int(m["max_attempts"], "\(path).max_attempts") {
                if n < 1 {
                    reader.issue("\(path).max_attempts", m["max_attempts"], "must be at least 1, got \(n)")
                } else {
                    maxAttempts = n
                }
            }
            let guardrails = guardrailReferences(m["guardrails"], "\(path).guardrails")
            let forwardQuery = m["forward_query"] == nil ? false : bool(m["forward_query"], "\(path).forward_query") ?? false
            guard let name, valid else { continue }
            out.append(.init(name: name, priorities: priorities, maxAttempts: max(1, maxAttempts), guardrails: guardrails, forwardQuery: forwardQuery))
        }
        return out
    }

    mutating func compileBackend(_ node: Node, _ path: String, providers: [String]) -> GatewayConfig.Backend? {
        guard let m = reader.mapping(node, path, allowed: ["provider", "model", "weight"], required: ["provider", "model"]) else { return nil }
        let provider = reference(m["provider"], "\(path).provider", in: providers, what: "provider")
        let model = reader.nonEmptyString(m["model"], "\(path).model")
        var weight = 1
        if let w = reader.int(m["weight"], "\(path).weight") {
            if (1...10_000).contains(w) {
                weight = w
            } else {
                reader.issue("\(path).weight", m["weight"], "weight must be between 1 and 10000, got \(w)")
                return nil
            }
        }
        guard let provider, let model else { return nil }
        return .init(provider: provider, model: model, weight: weight)
    }

    mutating func compileModels(_ node: Node?, providers: [String], routes: inout [GatewayConfig.Route]) -> [GatewayConfig.Model] {
        guard let items = reader.sequence(node, "models") else { return [] }
        if items.isEmpty { reader.issue("models", node, "at least one model is required") }
        var out: [GatewayConfig.Model] = []
        var names = Set<String>()
        let routeNames = declaredRoutes
        for (i, item) in items.enumerated() {
            let path = "models[\(i)]"
            guard let m = reader.mapping(item, path, allowed: ["name", "route", "provider", "upstream_model", "limits"], required: ["name"]) else { continue }
            let limits = limitSet(m["limits"], "\(path).limits")
            let name = checkedName(m["name"], "\(path).name", seen: &names, what: "model", pattern: false)
            let hasRoute = m["route"] != nil
            let hasProvider = m["provider"] != nil
            if hasRoute && hasProvider {
                reader.issue(path, item, "set either route or provider (+ upstream_model), not both")
                continue
            }
            if !hasRoute && !hasProvider {
                reader.issue(path, item, "set route (a fallback chain from routes) or provider (a single backend)")
                continue
            }
            if hasRoute {
                if m["upstream_model"] != nil {
                    reader.issue("\(path).upstream_model", m["upstream_model"], "upstream_model only applies with provider; a route names its backends' models")
                }
                let route = reference(m["route"], "\(path).route", in: routeNames, what: "route")
                if let name, let route { out.append(.init(name: name, route: route, limits: limits)) }
            } else {
                let provider = reference(m["provider"], "\(path).provider", in: providers, what: "provider")
                let upstream = m["upstream_model"] == nil ? name : reader.nonEmptyString(m["upstream_model"], "\(path).upstream_model")
                guard let name, let provider, let upstream else { continue }
                let implicit = "model:\(name)"
                routes.append(.init(name: implicit, priorities: [.init(backends: [.init(provider: provider, model: upstream)])], maxAttempts: 1))
                out.append(.init(name: name, route: implicit, limits: limits))
            }
        }
        return out
    }

    mutating func compileKeys(_ node: Node?, models: [String], routes: [String], teams: [String]) -> [GatewayConfig.APIKey] {
        guard let items = reader.sequence(node, "api_keys") else { return [] }
        var out: [GatewayConfig.APIKey] = []
        var names = Set<String>()
        var hashes = [String: Int]()
        for (i, item) in items.enumerated() {
            let path = "api_keys[\(i)]"
            guard let m = reader.mapping(item, path, allowed: ["name", "key_hash", "models", "routes", "team", "limits", "model_limits", "guardrails"],
                                         required: ["name", "key_hash", "models"]) else { continue }
            let name = checkedName(m["name"], "\(path).name", seen: &names, what: "API key")
            var hash = reader.nonEmptyString(m["key_hash"], "\(path).key_hash")
            if let h = hash {
                if APIKeyHash.digest(ofStored: h) == nil {
                    reader.issue("\(path).key_hash", m["key_hash"], "expected \"sha256:\" followed by 64 hex digits (create one with `tollgate keys hash`)")
                    hash = nil
                } else if let first = hashes[h.lowercased()] {
                    reader.issue("\(path).key_hash", m["key_hash"], "the same key hash is already used by api_keys[\(first)]")
                    hash = nil
                } else {
                    hashes[h.lowercased()] = i
                }
            }
            var allowed: [String] = []
            var modelsValid = true
            if let list = reader.sequence(m["models"], "\(path).models") {
                if list.isEmpty {
                    reader.issue("\(path).models", m["models"], "list the models this key may use, or [\"*\"] for all")
                    modelsValid = false
                }
                for (j, entry) in list.enumerated() {
                    guard let model = reader.nonEmptyString(entry, "\(path).models[\(j)]") else { modelsValid = false; continue }
                    if model != "*" && !models.contains(model) {
                        let near = YAMLReader.nearest(model, in: models).map { " (did you mean \"\($0)\"?)" } ?? ""
                        reader.issue("\(path).models[\(j)]", entry, "unknown model \"\(model)\"\(near)")
                        modelsValid = false
                    }
                    allowed.append(model)
                }
            } else {
                modelsValid = false
            }
            var overrides: [String: String] = [:]
            if let map = reader.stringMap(m["routes"], "\(path).routes") {
                for (model, route) in map {
                    if !allowed.contains("*") && !allowed.contains(model) {
                        reader.issue("\(path).routes.\(model)", m["routes"], "the key may not use model \"\(model)\", so it cannot route it")
                    } else if !models.contains(model) {
                        reader.issue("\(path).routes.\(model)", m["routes"], "unknown model \"\(model)\"")
                    }
                    if !routes.contains(route) {
                        let near = YAMLReader.nearest(route, in: routes).map { " (did you mean \"\($0)\"?)" } ?? ""
                        reader.issue("\(path).routes.\(model)", m["routes"], "unknown route \"\(route)\"\(near)")
                    }
                    overrides[model] = route
                }
            }
            let team = m["team"] == nil ? nil : reference(m["team"], "\(path).team", in: teams, what: "team")
            let limits = limitSet(m["limits"], "\(path).limits")
            var modelLimits: [String: GatewayConfig.LimitSet] = [:]
            if let node = m["model_limits"], !YAMLReader.isNull(node) {
                if case .mapping(let mapping) = node {
                    for (k, v) in mapping {
                        guard case .scalar(let model) = k else { continue }
                        let mpath = "\(path).model_limits.\(model.string)"
                        if !models.contains(model.string) {
                            let near = YAMLReader.nearest(model.string, in: models).map { " (did you mean \"\($0)\"?)" } ?? ""
                            reader.issue(mpath, k, "unknown model \"\(model.string)\"\(near)")
                        } else if !allowed.contains("*") && !allowed.contains(model.string) {
                            reader.issue(mpath, k, "the key may not use model \"\(model.string)\"")
                        }
                        if let set = limitSet(v, mpath) { modelLimits[model.string] = set }
                    }
                } else {
                    reader.issue("\(path).model_limits", node, "expected a mapping of model names to limits")
                }
            }
            let guardrails = guardrailReferences(m["guardrails"], "\(path).guardrails")
            guard let name, let hash, modelsValid else { continue }
            out.append(.init(name: name, keyHash: hash.lowercased(), models: allowed, routes: overrides,
                             team: team, limits: limits, modelLimits: modelLimits, guardrails: guardrails))
        }
        return out
    }

    /// `admin: {address, port}`: the operator listener for `/metrics` (and the probes). The
    /// address defaults to 127.0.0.1; a non-loopback address is allowed (scrapers in another
    /// pod) but must be written out.
    mutating func compileAdmin(_ node: Node?, listeners: [GatewayConfig.Listener]) -> GatewayConfig.Listener? {
        guard let node, !YAMLReader.isNull(node) else { return nil }
        guard let m = reader.mapping(node, "admin", allowed: ["address", "port"], required: ["port"]) else { return nil }
        let address = m["address"] == nil ? "127.0.0.1" : reader.nonEmptyString(m["address"], "admin.address")
        let port = reader.int(m["port"], "admin.port")
        if let port, !(1...65535).contains(port) {
            reader.issue("admin.port", m["port"], "port must be between 1 and 65535, got \(port)")
            return nil
        }
        if let address, !Self.isListenAddress(address) {
            reader.issue("admin.address", m["address"], "\"\(address)\" is not an IP address")
            return nil
        }
        guard let address, let port else { return nil }
        if listeners.contains(where: { $0.port == port && ($0.address == address || Self.isWildcard($0.address) || Self.isWildcard(address)) }) {
            reader.issue("admin.port", m["port"], "the admin listener must not share a port with a client listener (\(port))")
            return nil
        }
        return .init(address: address, port: port)
    }

    static func isWildcard(_ address: String) -> Bool { address == "0.0.0.0" || address == "::" }

    mutating func compileMock(_ node: Node?) -> GatewayConfig.MockProviderSettings? {
        guard let node, !YAMLReader.isNull(node) else { return nil }
        guard let m = reader.mapping(node, "mock_provider", allowed: ["address", "port"], required: ["port"]) else { return nil }
        let address = m["address"] == nil ? "127.0.0.1" : reader.nonEmptyString(m["address"], "mock_provider.address")
        let port = reader.int(m["port"], "mock_provider.port")
        if let port, !(1...65535).contains(port) {
            reader.issue("mock_provider.port", m["port"], "port must be between 1 and 65535, got \(port)")
            return nil
        }
        if let address, !Self.isListenAddress(address) {
            reader.issue("mock_provider.address", m["address"], "\"\(address)\" is not an IP address")
            return nil
        }
        guard let address, let port else { return nil }
        return .init(address: address, port: port)
    }

    /// `catalog_file: path`: a catalog in the built-in's format (`tollgate catalog` prints it)
    /// whose entries replace the built-in ones by name and add new ones.
    mutating func compileCatalogFile(_ node: Node?) -> [String: GatewayConfig.ModelInfo] {
        var table = ModelCatalog.builtIn
        guard let file = reader.nonEmptyString(node, "catalog_file") else { return table }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            reader.issue("catalog_file", node, "cannot read \(file)")
            return table
        }
        var catalog = CatalogReader()
        let entries = catalog.read(yaml: text)
        for issue in catalog.reader.issues {
            let location = issue.line.map { "\(file):\($0)" } ?? file
            reader.issue("catalog_file", node, "\(location): \(issue)")
        }
        table.merge(entries) { _, new in new }
        return table
    }

    /// `pricing: {upstream-model: {input: 2.5, output: 10, cached_input: 1.25}}` in USD per
    /// million tokens: the quickest way to set one price, applied over the catalog.
    mutating func compilePricing(_ node: Node?, into table: inout [String: GatewayConfig.ModelInfo]) {
        guard let node, !YAMLReader.isNull(node) else { return }
        guard case .mapping(let mapping) = node else {
            reader.issue("pricing", node, "expected a mapping of upstream model names to prices")
            return
        }
        var prices = CatalogReader()
        for (k, v) in mapping {
            guard case .scalar(let key) = k else { continue }
            let path = "pricing.\(key.string)"
            guard let m = reader.mapping(v, path, allowed: ["input", "output", "cached_input"], required: ["input", "output"]) else { continue }
            let input = prices.price(m["input"], "\(path).input")
            let output = prices.price(m["output"], "\(path).output")
            let cached = m["cached_input"] == nil ? nil : prices.price(m["cached_input"], "\(path).cached_input")
            guard let input, let output else { continue }
            // The price only: limits and capabilities of a catalog entry it extends stay.
            var info = table[key.string] ?? ModelCatalog.info(for: key.string, in: table) ?? GatewayConfig.ModelInfo()
            info.price = .init(inputPerMillion: input, outputPerMillion: output, cachedInputPerMillion: cached)
            table[key.string] = info
        }
        for issue in prices.reader.issues { reader.append(issue) }
    }

    // MARK: - Helpers

    mutating func checkedName(_ node: Node?, _ path: String, seen: inout Set<String>, what: String, pattern: Bool = true) -> String? {
        guard let name = reader.nonEmptyString(node, path) else { return nil }
        if pattern, !name.utf8.allSatisfy({ Self.nameByte($0) }) {
            reader.issue(path, node, "\(what) names may use letters, digits, '.', '_' and '-' only, got \"\(name)\"")
            return nil
        }
        if !seen.insert(name).inserted {
            reader.issue(path, node, "duplicate \(what) name \"\(name)\"")
            return nil
        }
        return name
    }

    mutating func reference(_ node: Node?, _ path: String, in names: [String], what: String) -> String? {
        guard let name = reader.nonEmptyString(node, path) else { return nil }
        guard names.contains(name) else {
            let near = YAMLReader.nearest(name, in: names).map { " (did you mean \"\($0)\"?)" } ?? ""
            reader.issue(path, node, "unknown \(what) \"\(name)\"\(near)")
            return nil
        }
        return name
    }

    static func nameByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x2D
    }

    static func isHTTPToken(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { b in
            nameByte(b) || "!#$%&'*+^`|~".utf8.contains(b)
        }
    }

    static func isListenAddress(_ s: String) -> Bool {
        if s == "localhost" { return true }
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, s, &v4) == 1 || inet_pton(AF_INET6, s, &v6) == 1
    }

    static func baseURLProblem(_ url: String) -> String? {
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            return "base_url must start with http:// or https://, got \"\(url)\""
        }
        if url.contains("?") || url.contains("#") { return "base_url must not contain a query or fragment" }
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            return "base_url \"\(url)\" has no host"
        }
        if let port = components.port, !(1...65535).contains(port) { return "base_url port must be between 1 and 65535" }
        if components.user != nil || components.password != nil { return "base_url must not contain credentials; use api_key_env or api_key_file" }
        return nil
    }

    /// `1048576`, `"512KiB"`, `"10MiB"`, `"1GiB"` for bytes; `30000`, `"250ms"`, `"30s"`, `"5m"`, `"1h"` for durations.
    static func parseQuantity(_ raw: String, unit: LimitUnit) -> Int? {
        let s = raw.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
        if let n = Int(s) { return n }
        let suffixes: [(String, Int)]
        switch unit {
        case .count: return nil
        case .bytes: suffixes = [("KiB", 1024), ("MiB", 1024 * 1024), ("GiB", 1024 * 1024 * 1024), ("B", 1)]
        case .milliseconds: suffixes = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        }
        for (suffix, factor) in suffixes where s.hasSuffix(suffix) {
            let number = s.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            if let n = Int(number) {
                let (product, overflow) = n.multipliedReportingOverflow(by: factor)
                return overflow ? nil : product
            }
            if let d = Double(number), d.isFinite, d >= 0, d * Double(factor) < Double(Int.max) {
                return Int(d * Double(factor))
            }
        }
        return nil
    }
}
