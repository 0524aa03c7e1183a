import ArgumentParser
import ControlPlane
import TollgateCore

/// `tollgate control-plane [serve] --db …`, `control-plane migrate`, `control-plane audit verify`,
/// `control-plane import FILE.yaml`, `control-plane export`.
struct ControlPlaneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "control-plane",
        abstract: "Run the management plane: REST API, config for data planes, audit log.",
        subcommands: [ServeCommand.self, MigrateCommand.self, AuditCommand.self, ImportCommand.self, ExportCommand.self],
        defaultSubcommand: ServeCommand.self
    )

    struct Database: ParsableArguments {
        @Option(help: "sqlite:PATH (default, one file) or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.")
        var db: String
    }

    struct ServeCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Apply pending migrations and serve the API (the default).",
            discussion: """
            Secrets come from the environment or files, never arguments: TOLLGATE_CP_ADMIN_TOKEN or \
            --admin-token-file (the bootstrap admin, at least 32 characters), TOLLGATE_CP_MASTER_KEY or \
            --master-key-file (`ID:BASE64` lines of 32-byte keys; the first seals provider credentials, all open them).
            Exit codes: 0 stopped by SIGTERM/SIGINT, 1 server failure, 70 database failure, 78 bad settings.
            """
        )

        @OptionGroup var database: Database

        @Option(help: "Address to listen on.")
        var host = "127.0.0.1"

        @Option(help: "Port to listen on (0 = any free port; the chosen one is printed).")
        var port = 8700

        @Option(help: "File holding the bootstrap admin token.")
        var adminTokenFile: String?

        @Option(help: "File holding the master key(s) for provider credentials.")
        var masterKeyFile: String?

        @Option(help: "Consecutive missed polls (at the interval each data plane reports) after which it is shown as unreachable.")
        var unreachableAfterMissedPolls = 3

        @OptionGroup var log: LogOptions

        func validate() throws {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        }

        func run() throws {
            log.bootstrap(role: "control-plane")
            let code = ControlPlaneMain.serve(.init(database: database.db, host: host, port: port, adminTokenFile: adminTokenFile,
                                                    masterKeyFile: masterKeyFile, unreachableAfterMissedPolls: unreachableAfterMissedPolls))
            throw ExitCode(code)
        }
    }

    struct MigrateCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply pending schema migrations and exit.")

        @OptionGroup var database: Database

        func run() throws {
            StructuredLogHandler.bootstrap(role: "control-plane", format: .text, level: .warning)
            throw ExitCode(ControlPlaneMain.migrate(database: database.db))
        }
    }

    struct AuditCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "audit", abstract: "Work with the audit log.",
                                                        subcommands: [Verify.self])

        struct Verify: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Check the audit log's hash chain; exit 1 naming the first edited, deleted or reordered entry.")

            @OptionGroup var database: Database

            func run() throws {
                StructuredLogHandler.bootstrap(role: "control-plane", format: .text, level: .warning)
                throw ExitCode(ControlPlaneMain.verifyAudit(database: database.db))
            }
        }
    }

    struct ImportCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Load a gateway YAML file into an organisation (API keys keep their hashes).",
            discussion: "Nothing is written unless every item validates and the resulting config compiles. Exit codes: 0 imported, 1 refused, 70 database failure.")

        @Argument(help: "The gateway config file.")
        var file: String

        @OptionGroup var database: Database

        @Option(help: "The organisation to import into (created if missing).")
        var org: String

        @Option(help: "Also create a data plane of this name from the file's listeners and limits (prints a one-time registration token).")
        var dataplane: String?

        func run() throws {
            StructuredLogHandler.bootstrap(role: "control-plane", format: .text, level: .warning)
            throw ExitCode(ControlPlaneMain.importConfig(database: database.db, file: file, org: org, dataplane: dataplane))
        }
    }

    struct ExportCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write an organisation's config as a gateway config file (JSON, which YAML reads) to stdout.")

        @OptionGroup var database: Database

        @Option(help: "The organisation to export.")
        var org: String

        @Option(help: "Export as this data plane runs it: its listeners, limits and scope.")
        var dataplane: String?

        func run() throws {
            StructuredLogHandler.bootstrap(role: "control-plane", format: .text, level: .warning)
            throw ExitCode(ControlPlaneMain.exportConfig(database: database.db, org: org, dataplane: dataplane))
        }
    }
}
