import ControlPlaneStore
import Dispatch
import Foundation
import Hummingbird
import Logging

/// `tollgate control-plane`: the management plane process. Opens the database (`--db`),
/// applies pending migrations, and serves the REST API until SIGTERM/SIGINT.
///
/// It owns the management data and the data-plane protocol; it never touches client traffic
/// and runs no part of the data plane (that is `tollgate serve`).
public enum ControlPlaneMain {
    public struct Options: Sendable {
        public var database: String
        public var host: String
        public var port: Int
        public var adminTokenFile: String?
        public var masterKeyFile: String?
        /// Consecutive missed polls after which a data plane is shown as unreachable.
        public var unreachableAfterMissedPolls: Int

        public init(database: String, host: String, port: Int, adminTokenFile: String?, masterKeyFile: String?, unreachableAfterMissedPolls: Int) {
            self.database = database
            self.host = host
            self.port = port
            self.adminTokenFile = adminTokenFile
            self.masterKeyFile = masterKeyFile
            self.unreachableAfterMissedPolls = unreachableAfterMissedPolls
        }
    }

    /// Exit codes: 0 stopped, 1 the server failed, 70 the database failed, 78 bad settings.
    public static func serve(_ options: Options) -> Int32 {
        blocking { await serveAsync(options) }
    }

    public static func migrate(database: String) -> Int32 {
        blocking {
            let logger = Logger(label: "tollgate.control-plane")
            do {
                let store = try await ControlPlaneStore.open(try DatabaseURL.parse(database), logger: logger)
                let report = try await store.migrate(nowMs: nowMs())
                print(report.applied.isEmpty ? "schema is at version \(report.current); nothing to apply"
                      : "applied migration(s) \(report.applied.map(String.init).joined(separator: ", ")); schema is at version \(report.current)")
                await store.close()
                return 0
            } catch {
                FileHandle.standardError.write(Data("tollgate control-plane migrate: \(error)\n".utf8))
                return 70
            }
        }
    }

    /// Exit codes: 0 the chain is intact, 1 it is broken (the first bad entry is printed), 70
    /// the database failed.
    public static func verifyAudit(database: String) -> Int32 {
        blocking {
            let logger = Logger(label: "tollgate.control-plane")
            do {
                let store = try await ControlPlaneStore.open(try DatabaseURL.parse(database), logger: logger)
                _ = try await store.migrate(nowMs: nowMs())
                let result = try await store.verifyAudit()
                await store.close()
                if result.ok {
                    print("audit log intact: \(result.entries) entries, head \(result.headHash)")
                    return 0
                }
                print("audit log BROKEN at entry \(result.brokenAt ?? 0): \(result.problem ?? "")")
                return 1
            } catch {
                FileHandle.standardError.write(Data("tollgate control-plane audit verify: \(error)\n".utf8))
                return 70
            }
        }
    }

    static func serveAsync(_ options: Options) async -> Int32 {
        let logger = Logger(label: "tollgate.control-plane")
        let settings: ControlPlaneSettings
        do {
            settings = try loadSettings(options)
        } catch {
            FileHandle.standardError.write(Data("tollgate control-plane: \(error)\n".utf8))
            return 78
        }
        let store: ControlPlaneStore
        do {
            let url = try DatabaseURL.parse(options.database)
            store = try await ControlPlaneStore.open(url, logger: logger)
            let report = try await store.migrate(nowMs: nowMs())
            logger.info("database ready", metadata: ["db": "\(url.redacted)", "schema": "\(report.current)",
                                                     "applied": "\(report.applied.map(String.init).joined(separator: ","))"])
        } catch {
            FileHandle.standardError.write(Data("tollgate control-plane: \(error)\n".utf8))
            return 70
        }
        let api = ControlPlaneAPI(store: store, settings: settings, logger: logger)
        let app = Application(
            router: ControlPlaneServer.router(api: api),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "tollgate-control-plane"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? options.port
                FileHandle.standardOutput.write(Data("tollgate control-plane ready: http://\(options.host):\(port)\n".utf8))
            },
            logger: logger
        )
        do {
            try await app.runService()
            await store.close()
            return 0
        } catch {
            logger.critical("control plane stopped", metadata: ["error": "\(error)"])
            await store.close()
            return 1
        }
    }

    struct SettingsError: Error, CustomStringConvertible {
        var description: String
    }

    /// The bootstrap admin token (env `TOLLGATE_CP_ADMIN_TOKEN` or `--admin-token-file`, at
    /// least 32 characters) and the master key (env `TOLLGATE_CP_MASTER_KEY` or
    /// `--master-key-file`). Either may be absent: no bootstrap admin, or no stored credentials.
    static func loadSettings(_ options: Options, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ControlPlaneSettings {
        var adminToken = environment["TOLLGATE_CP_ADMIN_TOKEN"]
        if let file = options.adminTokenFile {
            guard let data = FileManager.default.contents(atPath: file) else { throw SettingsError(description: "cannot read --admin-token-file \(file)") }
            adminToken = String(decoding: data, as: UTF8.self)
        }
        adminToken = adminToken?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let token = adminToken, token.count < 32 {
            throw SettingsError(description: "the bootstrap admin token must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        }
        var keyMaterial = environment["TOLLGATE_CP_MASTER_KEY"]
        if let file = options.masterKeyFile {
            guard let data = FileManager.default.contents(atPath: file) else { throw SettingsError(description: "cannot read --master-key-file \(file)") }
            keyMaterial = String(decoding: data, as: UTF8.self)
        }
        let box = try keyMaterial.map { material throws -> SecretBox in
            do { return try SecretBox(keyMaterial: material) } catch { throw SettingsError(description: "\(error)") }
        }
        guard (1...1000).contains(options.unreachableAfterMissedPolls) else {
            throw SettingsError(description: "--unreachable-after-missed-polls must be between 1 and 1000")
        }
        return ControlPlaneSettings(adminTokenHash: adminToken.map(Tokens.hash), secretBox: box,
                                    unreachableAfterMissedPolls: options.unreachableAfterMissedPolls)
    }

    /// Exit codes: 0 imported, 1 refused (every problem printed), 70 the database failed.
    public static func importConfig(database: String, file: String, org: String, dataplane: String?) -> Int32 {
        blocking {
            guard let data = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("tollgate control-plane import: cannot read \(file)\n".utf8))
                return 1
            }
            let store: ControlPlaneStore
            do {
                store = try await ControlPlaneStore.open(try DatabaseURL.parse(database), logger: Logger(label: "tollgate.control-plane"))
                _ = try await store.migrate(nowMs: nowMs())
            } catch {
                FileHandle.standardError.write(Data("tollgate control-plane import: \(error)\n".utf8))
                return 70
            }
            let code: Int32
            do {
                let report = try await ConfigTransfer.importYAML(String(decoding: data, as: UTF8.self), source: file, into: store,
                                                                 orgName: org, dataplaneName: dataplane, nowMs: nowMs())
                print("imported \(report.created.count) resources into organization \(org) (\(report.orgID))")
                for line in report.created { print("  \(line)") }
                if let dp = report.dataplane {
                    print("data plane \(dp.id): registration token (valid 1 h, shown once): \(dp.registrationToken)")
                }
                code = 0
            } catch let failure as ConfigTransfer.Failure {
                FileHandle.standardError.write(Data("tollgate control-plane import: \(failure)\n".utf8))
                code = 1
            } catch {
                FileHandle.standardError.write(Data("tollgate control-plane import: \(error)\n".utf8))
                code = 70
            }
            await store.close()
            return code
        }
    }

    /// Exit codes: 0 written, 1 no such org or data plane, 70 the database failed.
    public static func exportConfig(database: String, org: String, dataplane: String?) -> Int32 {
        blocking {
            do {
                let store = try await ControlPlaneStore.open(try DatabaseURL.parse(database), logger: Logger(label: "tollgate.control-plane"))
                _ = try await store.migrate(nowMs: nowMs())
                let text: String
                do {
                    text = try await ConfigTransfer.exportYAML(from: store, orgName: org, dataplaneName: dataplane, nowMs: nowMs())
                } catch let failure as ConfigTransfer.Failure {
                    await store.close()
                    FileHandle.standardError.write(Data("tollgate control-plane export: \(failure)\n".utf8))
                    return 1
                }
                await store.close()
                FileHandle.standardOutput.write(Data(text.utf8))
                return 0
            } catch {
                FileHandle.standardError.write(Data("tollgate control-plane export: \(error)\n".utf8))
                return 70
            }
        }
    }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Runs async work from the synchronous CLI entry point (the CLI's root command is
    /// synchronous because the supervisor must keep its main thread).
    static func blocking(_ body: @escaping @Sendable () async -> Int32) -> Int32 {
        final class Box: @unchecked Sendable {
            // Written before `done.signal()`, read after `done.wait()`: the semaphore orders them.
            var code: Int32 = 70
        }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Task {
            box.code = await body()
            done.signal()
        }
        done.wait()
        return box.code
    }
}
