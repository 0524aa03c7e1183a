import ArgumentParser
import Config
import Controller
import Foundation
import Logging
import MockProvider
import Supervisor
import TollgateCore
import Worker

/// The single `tollgate` executable. People run `serve`, `config check`, `keys hash` and
/// `mock-provider`; the supervisor runs `controller` and `worker` as its children.
@main
struct Tollgate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate",
        abstract: "An AI gateway: one policy-controlled front door for every LLM.",
        version: TollgateCore.version,
        subcommands: [Serve.self, ControlPlaneCommand.self, ConfigCommand.self, Keys.self, CatalogCommand.self, MockProviderCommand.self, WorkerCommand.self,
                      ControllerCommand.self, DebugCommand.self, GuardrailsBenchCommand.self, ProvidersBenchCommand.self]
    )
}

/// Logging flags shared by every process role; the supervisor passes them on to its children.
struct LogOptions: ParsableArguments {
    @Option(help: "Log format: text or json (JSON lines).")
    var logFormat: StructuredLogHandler.Format = .text

    @Option(help: "Minimum log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func bootstrap(role: String) {
        StructuredLogHandler.bootstrap(role: role, format: logFormat, level: logLevel)
    }

    var childArguments: [String] {
        ["--log-format", logFormat.rawValue, "--log-level", logLevel.rawValue]
    }
}

extension StructuredLogHandler.Format: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the data plane: a supervisor, a controller and N workers.",
        discussion: """
        Signals: SIGHUP reloads the config with no dropped request; SIGTERM drains (in-flight requests \
        and streams finish, up to limits.shutdown_grace_ms) and exits 0; SIGINT/SIGQUIT stop fast.
        Exit codes: 0 stopped by a signal, 1 a worker could not start (e.g. port in use), 71 OS error, \
        78 invalid config.
        """
    )

    @Option(name: .shortAndLong, help: "The YAML config file (or use --control-plane).")
    var config: String?

    @OptionGroup var controlPlane: ControlPlaneOptions

    @Option(help: "Number of worker processes (default: one per CPU core).")
    var workers: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Directory for the snapshot and shared memory (default: a private directory under /tmp).")
    var runDir: String?

    @Flag(help: "Log one line per request.")
    var accessLog = false

    @OptionGroup var log: LogOptions

    func validate() throws {
        guard (1...256).contains(workers) else { throw ValidationError("--workers must be between 1 and 256") }
        switch (config, try controlPlane.settings()) {
        case (nil, nil): throw ValidationError("give --config FILE, or --control-plane URL with --dataplane-id and --dataplane-token-file")
        case (.some, .some): throw ValidationError("--config and --control-plane are exclusive")
        default: break
        }
    }

    func run() throws {
        log.bootstrap(role: "supervisor")
        let code = SupervisorMain.run(.init(configPath: config ?? "", workers: workers, runDirectory: runDir,
                                            logArguments: log.childArguments, accessLog: accessLog,
                                            controlPlane: try controlPlane.settings()))
        throw ExitCode(code)
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Work with config files.",
                                                    subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a config file and print every error with its path.")

        @Argument(help: "The YAML config file.")
        var file: String

        func run() throws {
            do {
                let config = try ConfigLoader.load(path: file)
                print("\(file): OK (\(config.listeners.count) listener(s), \(config.providers.count) provider(s), \(config.models.count) model(s), \(config.routes.count) route(s), \(config.apiKeys.count) API key(s))")
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(78)
            }
        }
    }
}

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Work with API keys.", subcommands: [Hash.self])

    struct Hash: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the hash to store in api_keys[].key_hash for a plaintext key.",
            discussion: "Reads the key from standard input when no argument is given, so it stays out of shell history.")

        @Argument(help: "The plaintext key (omit to read it from standard input).")
        var key: String?

        func run() throws {
            var plaintext = key ?? (readLine(strippingNewline: true) ?? "")
            plaintext = plaintext.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !plaintext.isEmpty else { throw ValidationError("empty key") }
            print(APIKeyHash.hash(plaintext: plaintext))
        }
    }
}

struct MockProviderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-provider",
        abstract: "Run the built-in mock LLM provider (OpenAI wire format, with latency and fault injection).")

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 = pick a free one; the chosen port is printed).")
    var port = 9901

    @Option(help: "Event loop threads.")
    var threads = 1

    func run() throws {
        StructuredLogHandler.bootstrap(role: "mock-provider", format: .text, level: .info)
        MockProviderMain.run(host: host, port: port, threads: max(1, threads))
    }
}

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "A worker process (started by `tollgate serve`).", shouldDisplay: false)

    @Option var id: Int
    @Option var runDir: String
    @Flag var accessLog = false
    @OptionGroup var log: LogOptions

    func run() throws {
        log.bootstrap(role: "worker-\(id)")
        WorkerMain.run(.init(workerID: id, runDirectory: runDir, accessLog: accessLog))
    }
}

struct ControllerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller", abstract: "The controller process (started by `tollgate serve`).", shouldDisplay: false)

    @Option var config: String?
    @Option var runDir: String
    @OptionGroup var controlPlane: ControlPlaneOptions
    @OptionGroup var log: LogOptions

    func run() throws {
        log.bootstrap(role: "controller")
        ControllerMain.run(.init(configPath: config ?? "", runDirectory: runDir, controlPlane: try controlPlane.settings()))
    }
}

/// Control-plane mode for `serve` (and the controller it spawns): poll the management plane
/// for config instead of reading a file.
struct ControlPlaneOptions: ParsableArguments {
    @Option(help: "The control plane's base URL (e.g. https://cp.example.com); replaces --config.")
    var controlPlane: String?

    @Option(help: "This data plane's id at the control plane.")
    var dataplaneId: String?

    @Option(help: "File holding this data plane's credential (tgdp_…), re-read on every poll.")
    var dataplaneTokenFile: String?

    @Option(help: "File holding a one-time registration token (tgdr_…): on first start, when the token file does not exist yet, it is exchanged for the credential, which is written to --dataplane-token-file.")
    var dataplaneRegistrationTokenFile: String?

    @Option(help: "Directory for the last good config from the control plane (survives restarts; default /var/lib/tollgate).")
    var stateDir: String?

    @Option(help: "Milliseconds between polls (jittered ±10 %, backing off to 60 s while the control plane is away).")
    var pollIntervalMs = 10_000

    func settings() throws -> ControlPlaneSource.Settings? {
        guard let url = controlPlane else {
            if dataplaneId != nil || dataplaneTokenFile != nil { throw ValidationError("--dataplane-id and --dataplane-token-file need --control-plane") }
            return nil
        }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else { throw ValidationError("--control-plane must be an http:// or https:// URL") }
        guard let id = dataplaneId, !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            throw ValidationError("--control-plane needs --dataplane-id (letters, digits, _ and -)")
        }
        guard let tokenFile = dataplaneTokenFile else { throw ValidationError("--control-plane needs --dataplane-token-file") }
        guard (500...3_600_000).contains(pollIntervalMs) else { throw ValidationError("--poll-interval-ms must be between 500 and 3600000") }
        return ControlPlaneSource.Settings(url: url, dataplaneID: id, tokenFile: tokenFile, stateDirectory: stateDir ?? "/var/lib/tollgate",
                                           intervalMs: pollIntervalMs, registrationTokenFile: dataplaneRegistrationTokenFile)
    }
}
