#if canImport(Glibc)
import Glibc
#endif
import Config
import Foundation
import Logging
import TollgateCore

/// The data plane's second config source (besides the YAML file): the management plane.
///
/// The data plane polls `GET {url}/api/v1/dataplanes/{id}/config` outbound-only with its
/// credential and `If-None-Match`. An answer is compiled with the same `ConfigLoader` as a
/// file (the document carries the config as JSON text, which YAML reads), its `secrets`
/// supplied as environment, and only a config that compiles without a single issue is
/// published — and only then saved as the last good config (`last-good.json` in the state
/// directory, mode 0600: it holds provider credentials, like the snapshot). A data plane
/// that starts while the control plane is away runs on that file.
public enum ControlPlaneSource {
    public struct Settings: Sendable, Equatable {
        /// The control plane's base URL, e.g. https://cp.example.com.
        public var url: String
        public var dataplaneID: String
        /// Holds the data plane's credential (`tgdp_…`); re-read for every poll, so it rotates
        /// without a restart.
        public var tokenFile: String
        /// Where the last good config is kept; survives restarts (unlike the run directory).
        public var stateDirectory: String
        public var intervalMs: Int
        public var maxBackoffMs: Int
        public var timeoutMs: Int
        /// A one-time registration token (`tgdr_…`) to exchange for the credential when
        /// `tokenFile` does not exist yet (first start); used once, by the supervisor.
        public var registrationTokenFile: String?

        public init(url: String, dataplaneID: String, tokenFile: String, stateDirectory: String,
                    intervalMs: Int = 10_000, maxBackoffMs: Int = 60_000, timeoutMs: Int = 5_000, registrationTokenFile: String? = nil) {
            self.registrationTokenFile = registrationTokenFile
            var trimmed = url
            while trimmed.hasSuffix("/") { trimmed.removeLast() }
            self.url = trimmed
            self.dataplaneID = dataplaneID
            self.tokenFile = tokenFile
            self.stateDirectory = stateDirectory
            self.intervalMs = intervalMs
            self.maxBackoffMs = maxBackoffMs
            self.timeoutMs = timeoutMs
        }

        /// The same settings as controller arguments.
        public var arguments: [String] {
            ["--control-plane", url, "--dataplane-id", dataplaneID, "--dataplane-token-file", tokenFile, "--state-dir", stateDirectory,
             "--poll-interval-ms", String(intervalMs)]
        }

        var configURL: String { "\(url)/api/v1/dataplanes/\(dataplaneID)/config" }
        var lastGoodPath: String { stateDirectory + "/last-good.json" }
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// A config document as the control plane sends it.
    public struct Document: Sendable, Equatable {
        public var etag: String
        public var configJSON: String
        public var secrets: [String: String]
        /// The bytes received, kept verbatim as the last good config.
        public var raw: Data
    }

    struct WireDocument: Decodable {
        var format: String
        var config: String
        var secrets: [String: String]
    }

    public static let maxDocumentBytes = 16 << 20

    public static func decode(_ data: Data, etag: String) throws -> Document {
        guard data.count <= maxDocumentBytes else { throw Failure("the config document exceeds \(maxDocumentBytes) bytes") }
        let wire: WireDocument
        do { wire = try JSONDecoder().decode(WireDocument.self, from: data) } catch {
            throw Failure("the config document is not valid JSON of the expected shape")
        }
        guard wire.format == "tollgate-config-v1" else { throw Failure("unknown config document format \"\(wire.format.prefix(40))\"") }
        return Document(etag: etag, configJSON: wire.config, secrets: wire.secrets, raw: data)
    }

    /// Compiles a document exactly like a config file; throws `ConfigLoadError` listing every issue.
    public static func compile(_ document: Document, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigLoadError) -> GatewayConfig {
        try ConfigLoader.load(yaml: document.configJSON, source: "control plane config \(document.etag)",
                              environment: environment.merging(document.secrets) { _, cp in cp })
    }

    public enum FetchResult: Sendable, Equatable {
        case notModified
        case document(Document)
    }

    /// One poll (the heartbeat): sends what the data plane runs and why it rejected the last
    /// answer, if it did.
    public static func fetch(_ settings: Settings, appliedETag: String?, lastError: String?) throws -> FetchResult {
        let token = try readToken(settings)
        var headers = [("Authorization", "Bearer \(token)"), ("Accept", "application/json"), ("X-Tollgate-Version", TollgateCore.version),
                       ("X-Tollgate-Poll-Interval-Ms", String(settings.intervalMs))]
        if let appliedETag { headers.append(("If-None-Match", appliedETag)) }
        if let lastError {
            // One header line: no newlines, bounded.
            headers.append(("X-Tollgate-Config-Error", String(lastError.map { $0.isNewline ? " " : $0 }.prefix(2000))))
        }
        let reply: BlockingHTTP.Reply
        do {
            reply = try BlockingHTTP.exchange("GET", settings.configURL, headers: headers, timeout: Double(settings.timeoutMs) / 1000,
                                              maxBodyBytes: maxDocumentBytes)
        } catch {
            throw Failure("\(settings.url) unreachable: \(error)")
        }
        switch reply.status {
        case 304:
            return .notModified
        case 200:
            guard let etag = reply.headers["etag"], !etag.isEmpty, etag.utf8.count <= 80 else { throw Failure("the answer has no ETag") }
            return .document(try decode(reply.body, etag: etag))
        case 401:
            throw Failure("the control plane refused the data-plane credential (401): check --dataplane-id and the token file")
        default:
            let snippet = String(decoding: reply.body.prefix(300), as: UTF8.self)
            throw Failure("the control plane answered \(reply.status): \(snippet)")
        }
    }

    /// The data plane's credential, re-read every time so a rotated one takes effect.
    static func readToken(_ settings: Settings) throws -> String {
        guard let tokenData = FileManager.default.contents(atPath: settings.tokenFile) else {
            throw Failure("cannot read the data-plane token file \(settings.tokenFile)")
        }
        let token = String(decoding: tokenData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw Failure("the data-plane token file \(settings.tokenFile) is empty") }
        return token
    }

    /// First start with a registration token: exchange it for the data plane's credential and
    /// write that to the token file (0600, atomically). Nothing to do once the file exists.
    static func register(_ settings: Settings, logger: Logger) throws {
        guard let registrationFile = settings.registrationTokenFile, (try? readToken(settings)) == nil else { return }
        guard let data = FileManager.default.contents(atPath: registrationFile) else {
            throw Failure("cannot read the registration token file \(registrationFile)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let reply: BlockingHTTP.Reply
        do {
            reply = try BlockingHTTP.exchange("POST", "\(settings.url)/api/v1/dataplanes/\(settings.dataplaneID)/register",
                                              headers: [("Authorization", "Bearer \(token)"), ("X-Tollgate-Version", TollgateCore.version)],
                                              timeout: Double(settings.timeoutMs) / 1000, maxBodyBytes: 64 * 1024)
        } catch {
            throw Failure("cannot register with \(settings.url): \(error)")
        }
        struct Registered: Decodable { var credential: String }
        guard reply.status == 200, let registered = try? JSONDecoder().decode(Registered.self, from: reply.body),
              registered.credential.hasPrefix("tgdp_") else {
            throw Failure("the control plane refused the registration token (\(reply.status)): it is wrong, used or expired; ask for a new one")
        }
        try writePrivately(Data((registered.credential + "\n").utf8), to: settings.tokenFile, directory: nil)
        logger.notice("registered with the control plane; the credential is in the token file", metadata: ["file": "\(settings.tokenFile)"])
    }

    // MARK: - Last good config

    /// The saved document, if any (first line its ETag, then the document bytes).
    public static func loadLastGood(_ settings: Settings) -> Document? {
        guard let data = FileManager.default.contents(atPath: settings.lastGoodPath),
              let newline = data.firstIndex(of: 0x0A) else { return nil }
        let etag = String(decoding: data[..<newline], as: UTF8.self)
        return try? decode(Data(data[data.index(after: newline)...]), etag: etag)
    }

    /// Durably replaces the last good config: temp file (0600) + fsync + rename + directory fsync.
    public static func saveLastGood(_ document: Document, _ settings: Settings) throws {
        if mkdir(settings.stateDirectory, 0o700) != 0 && errno != EEXIST {
            throw Failure("cannot create the state directory \(settings.stateDirectory): \(String(cString: strerror(errno)))")
        }
        var bytes = Data(document.etag.utf8)
        bytes.append(0x0A)
        bytes.append(document.raw)
        try writePrivately(bytes, to: settings.lastGoodPath, directory: settings.stateDirectory)
    }

    /// Durably replaces `path` with `bytes`, mode 0600: temp file + fsync + rename (+ fsync of
    /// `directory` when given).
    static func writePrivately(_ bytes: Data, to path: String, directory: String?) throws {
        let temp = path + ".tmp.\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure("cannot write \(temp): \(String(cString: strerror(errno)))") }
        let written = bytes.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return fsync(fd) == 0
        }
        close(fd)
        guard written, rename(temp, path) == 0 else {
            unlink(temp)
            throw Failure("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        if let directory, case let dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC), dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }

    // MARK: - Start

    /// The config a data plane starts on: the control plane's current one when it answers
    /// and compiles, else the last good one saved earlier (logged as such), else an error.
    public static func bootstrap(_ settings: Settings, logger: Logger) throws -> (GatewayConfig, Document) {
        try register(settings, logger: logger)
        let saved = loadLastGood(settings)
        var why: String
        do {
            switch try fetch(settings, appliedETag: saved?.etag, lastError: nil) {
            case .notModified:
                if let saved { return (try compile(saved), saved) }
                why = "the control plane answered 304 but no last good config is saved"
            case .document(let document):
                do {
                    let config = try compile(document)
                    try saveLastGood(document, settings)
                    return (config, document)
                } catch let error as ConfigLoadError {
                    why = "the control plane's config is invalid: \(error.issues.map(\.description).joined(separator: "; "))"
                    logger.error("control plane config rejected", metadata: ["etag": "\(document.etag)", "issues": "\(error.issues.count)"])
                }
            }
        } catch let error as ConfigLoadError {
            why = "the saved config no longer compiles: \(error)"
        } catch {
            why = "\(error)"
        }
        guard let saved else {
            throw Failure("cannot start: \(why), and no last good config is saved in \(settings.stateDirectory)")
        }
        logger.warning("starting on the last good config", metadata: ["reason": "\(why)", "etag": "\(saved.etag)"])
        do {
            return (try compile(saved), saved)
        } catch {
            throw Failure("cannot start: \(why), and the last good config in \(settings.lastGoodPath) does not compile: \(error)")
        }
    }
}
