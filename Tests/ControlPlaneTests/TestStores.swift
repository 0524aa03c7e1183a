import ControlPlaneStore
import Foundation
import Logging
import Testing
import TollgateTesting

/// The two storage backends every store and API test runs against. The PostgreSQL run starts
/// a real server (initdb + postgres on a free loopback port, once per test process) and gives
/// each test its own database.
enum TestBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// A fresh, migrated store and whatever must live as long as it.
    func makeStore() async throws -> (ControlPlaneStore, TempDirectory?) {
        let url = try databaseURL()
        let dir = url.1
        let store = try await ControlPlaneStore.open(try DatabaseURL.parse(url.0), logger: Logger(label: "test"))
        _ = try await store.migrate(nowMs: 1_000)
        return (store, dir)
    }

    /// `--db` for a new empty database.
    func databaseURL() throws -> (String, TempDirectory?) {
        switch self {
        case .sqlite:
            let dir = try TempDirectory()
            return ("sqlite:" + dir.file("cp.db"), dir)
        case .postgres:
            let server = try PostgresServer.shared()
            return (server.url(database: try server.createDatabase()), nil)
        }
    }
}

let testChange = Change(actor: AuditActor(actor: "test", sourceIP: "127.0.0.1"), nowMs: 5_000)
