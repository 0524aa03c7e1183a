import Config
import Foundation
import Logging
import Testing
@testable import Controller

@Suite struct ControlPlanePollStateTests {
    @Test func failuresBackOffAndRecoveryIsLogged() {
        var s = ControlPlanePollState(intervalMs: 10_000, maxBackoffMs: 60_000, appliedETag: "\"a\"")
        #expect(s.nextDelayMs(jitter: 0) == 10_000)
        #expect(s.handle(.failed(reason: "refused")) == [.logUnreachable(reason: "refused", failures: 1)])
        #expect(s.nextDelayMs(jitter: 0) == 20_000)
        _ = s.handle(.failed(reason: "refused"))
        #expect(s.nextDelayMs(jitter: 0) == 40_000)
        for _ in 0..<40 { _ = s.handle(.failed(reason: "refused")) }
        #expect(s.nextDelayMs(jitter: 0) == 60_000)
        #expect(s.nextDelayMs(jitter: 1) == 66_000)
        #expect(s.nextDelayMs(jitter: -1) == 54_000)
        #expect(s.appliedETag == "\"a\"")
        #expect(s.handle(.notModified) == [.logReachableAgain(afterFailures: 42)])
        #expect(s.nextDelayMs(jitter: 0) == 10_000)
        #expect(s.handle(.notModified) == [])
    }

    @Test func aRejectedConfigIsReportedUntilAGoodOneApplies() {
        var s = ControlPlanePollState(intervalMs: 1_000, maxBackoffMs: 8_000, appliedETag: nil)
        #expect(s.handle(.rejected(etag: "\"b\"", reason: "routes[0]: unknown provider")) == [.logRejected(etag: "\"b\"", reason: "routes[0]: unknown provider")])
        #expect(s.lastError == "routes[0]: unknown provider")
        // The same bad config again: still reported in the heartbeat, not logged again.
        #expect(s.handle(.rejected(etag: "\"b\"", reason: "routes[0]: unknown provider")) == [])
        #expect(s.appliedETag == nil)
        // The control plane went back to what we run: nothing to report any more.
        #expect(s.handle(.notModified) == [])
        #expect(s.lastError == nil)
        #expect(s.handle(.rejected(etag: "\"b\"", reason: "again")) == [.logRejected(etag: "\"b\"", reason: "again")])
        #expect(s.handle(.applied(etag: "\"c\"")) == [.logApplied(etag: "\"c\"")])
        #expect(s.lastError == nil)
        #expect(s.appliedETag == "\"c\"")
    }
}

@Suite struct ControlPlaneSourceTests {
    static func document(port: Int = 8080) -> Data {
        let config = #"{"listeners":[{"address":"127.0.0.1","port":\#(port)}],"models":[{"name":"m","provider":"p"}],"providers":[{"api_key_env":"TOLLGATE_CP_SECRET_PRV_1","base_url":"http://127.0.0.1:9/v1","kind":"openai-compatible","name":"p"}],"version":1}"#
        let doc: [String: Any] = ["format": "tollgate-config-v1", "config": config, "secrets": ["TOLLGATE_CP_SECRET_PRV_1": "sk-1"]]
        return try! JSONSerialization.data(withJSONObject: doc)
    }

    @Test func aDocumentCompilesLikeAFileWithItsSecretsAsEnvironment() throws {
        let doc = try ControlPlaneSource.decode(Self.document(), etag: "\"e1\"")
        let config = try ControlPlaneSource.compile(doc, environment: [:])
        #expect(config.providers.first?.apiKey?.value == "sk-1")
        #expect(config.listeners.first?.port == 8080)
        #expect(throws: ControlPlaneSource.Failure.self) { try ControlPlaneSource.decode(Data("{\"format\":\"v0\",\"config\":\"\",\"secrets\":{}}".utf8), etag: "x") }
        #expect(throws: ControlPlaneSource.Failure.self) { try ControlPlaneSource.decode(Data("not json".utf8), etag: "x") }
        let broken = try ControlPlaneSource.decode(Data(#"{"format":"tollgate-config-v1","config":"{\"version\":1}","secrets":{}}"#.utf8), etag: "x")
        #expect(throws: ConfigLoadError.self) { try ControlPlaneSource.compile(broken, environment: [:]) }
    }

    @Test func theLastGoodConfigSurvivesOnDiskPrivately() throws {
        let dir = NSTemporaryDirectory() + "tg-cp-state-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let settings = ControlPlaneSource.Settings(url: "http://127.0.0.1:1/", dataplaneID: "dp_1", tokenFile: dir + "/token", stateDirectory: dir)
        #expect(settings.url == "http://127.0.0.1:1")
        #expect(ControlPlaneSource.loadLastGood(settings) == nil)
        let doc = try ControlPlaneSource.decode(Self.document(port: 9000), etag: "\"e2\"")
        try ControlPlaneSource.saveLastGood(doc, settings)
        #expect(ControlPlaneSource.loadLastGood(settings) == doc)
        let mode = try FileManager.default.attributesOfItem(atPath: settings.lastGoodPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func startingWithoutAControlPlaneUsesTheLastGoodConfigOrRefuses() throws {
        let dir = NSTemporaryDirectory() + "tg-cp-boot-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "tgdp_x".write(toFile: dir + "/token", atomically: true, encoding: .utf8)
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        let settings = ControlPlaneSource.Settings(url: "http://127.0.0.1:1", dataplaneID: "dp_1", tokenFile: dir + "/token",
                                                   stateDirectory: dir, timeoutMs: 2_000)
        #expect(throws: ControlPlaneSource.Failure.self) { try ControlPlaneSource.bootstrap(settings, logger: .init(label: "t")) }
        try ControlPlaneSource.saveLastGood(try ControlPlaneSource.decode(Self.document(port: 9001), etag: "\"e3\""), settings)
        let (config, doc) = try ControlPlaneSource.bootstrap(settings, logger: .init(label: "t"))
        #expect(config.listeners.first?.port == 9001)
        #expect(doc.etag == "\"e3\"")
    }
}
