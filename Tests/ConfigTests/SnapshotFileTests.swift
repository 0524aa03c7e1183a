import Foundation
import Testing
@testable import Config

@Suite struct SnapshotFileTests {
    static let config = GatewayConfig(
        listeners: [.init(address: "127.0.0.1", port: 8080)],
        providers: [.init(name: "p", kind: .openai, baseURL: "https://api.openai.com/v1", apiKey: Secret("sk-x"), headers: ["OpenAI-Organization": "org"])],
        models: [.init(name: "m", route: "r")],
        routes: [.init(name: "r", priorities: [.init(backends: [.init(provider: "p", model: "gpt-4o", weight: 2)])], maxAttempts: 1)],
        apiKeys: [.init(name: "k", keyHash: APIKeyHash.hash(plaintext: "k"), models: ["*"], routes: ["m": "r"])],
        mockProvider: .init(address: "127.0.0.1", port: 9901))

    private func decode(_ bytes: [UInt8]) throws(SnapshotError) -> Snapshot {
        do {
            return try bytes.withUnsafeBytes { raw in try SnapshotFile.decode(raw) }
        } catch let e as SnapshotError {
            throw e
        } catch {
            throw .io("\(error)")
        }
    }

    private func expectError(_ expected: SnapshotError, _ bytes: [UInt8]) {
        do {
            _ = try decode(bytes)
            Issue.record("expected \(expected)")
        } catch {
            #expect(error == expected)
        }
    }

    @Test func roundTrip() throws {
        let bytes = try SnapshotFile.encode(Self.config, generation: 42, createdAtUnixMs: 1234)
        let snap = try decode(bytes)
        #expect(snap == Snapshot(generation: 42, createdAtUnixMs: 1234, config: Self.config))
        #expect(Array(bytes.prefix(6)) == Array("TGSNAP".utf8))
    }

    @Test func everyTruncationIsRefused() throws {
        let bytes = try SnapshotFile.encode(Self.config, generation: 1, createdAtUnixMs: 0)
        for length in 0..<bytes.count {
            #expect(throws: SnapshotError.self) { try decode(Array(bytes.prefix(length))) }
        }
        expectError(.tooShort(10), Array(bytes.prefix(10)))
        expectError(.lengthMismatch(expected: UInt64(bytes.count - 72), actual: UInt64(bytes.count - 73)), Array(bytes.dropLast()))
    }

    @Test func trailingBytesAreRefused() throws {
        let bytes = try SnapshotFile.encode(Self.config, generation: 1, createdAtUnixMs: 0)
        expectError(.lengthMismatch(expected: UInt64(bytes.count - 72), actual: UInt64(bytes.count - 71)), bytes + [0])
    }

    @Test func corruptionIsDetected() throws {
        var bytes = try SnapshotFile.encode(Self.config, generation: 1, createdAtUnixMs: 0)
        bytes[bytes.count - 5] ^= 0x01
        expectError(.checksumMismatch, bytes)
    }

    @Test func foreignFilesAndFutureVersionsAreRefused() throws {
        var bytes = try SnapshotFile.encode(Self.config, generation: 1, createdAtUnixMs: 0)
        var wrongMagic = bytes
        wrongMagic[0] = UInt8(ascii: "X")
        expectError(.badMagic, wrongMagic)
        bytes[8] = 2
        expectError(.unsupportedVersion(2), bytes)
    }

    @Test func writeIsAtomicAndPrivate() throws {
        let dir = NSTemporaryDirectory() + "tg-snap-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/config.snap"
        try SnapshotFile.write(Self.config, generation: 1, to: path)
        try SnapshotFile.write(Self.config, generation: 2, to: path)
        #expect(try SnapshotFile.read(path: path).generation == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["config.snap"], "no temp files left")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func missingFileIsAnIOError() {
        do {
            _ = try SnapshotFile.read(path: "/nonexistent/config.snap")
            Issue.record("expected an error")
        } catch {
            guard case .io(let what) = error else { Issue.record("expected .io, got \(error)"); return }
            #expect(what.contains("/nonexistent/config.snap"))
        }
    }
}
