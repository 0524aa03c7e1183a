import Config
import Foundation
import SharedState
import Testing
@testable import Controller

@Suite struct SnapshotPublisherTests {
    final class Fixture {
        let dir = NSTemporaryDirectory() + "tg-pub-\(UUID().uuidString)"
        let paths: RunPaths
        let block: ControlBlock
        let configPath: String

        init() throws {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            paths = RunPaths(runDirectory: dir)
            block = try ControlBlock.create(path: paths.controlBlock, workerSlots: 1)
            configPath = dir + "/tollgate.yaml"
        }

        func writeConfig(model: String) throws {
            let yaml = """
            version: 1
            listeners: [{address: 127.0.0.1, port: 8080}]
            providers: [{name: p, kind: openai-compatible, base_url: "http://127.0.0.1:9/v1"}]
            models: [{name: \(model), provider: p}]
            """
            try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        }

        deinit { try? FileManager.default.removeItem(atPath: dir) }
    }

    @Test func publishesGenerationsInOrderAndSkipsUnchangedConfigs() throws {
        let f = try Fixture()
        let publisher = SnapshotPublisher(configPath: f.configPath, paths: f.paths, controlBlock: f.block)
        try f.writeConfig(model: "a")
        #expect(try publisher.publish(environment: [:]) == .published(generation: 1))
        #expect(f.block.configGeneration == 1)
        #expect(try publisher.publish(environment: [:]) == .unchanged(generation: 1))
        try f.writeConfig(model: "b")
        #expect(try publisher.publish(environment: [:]) == .published(generation: 2))
        let snap = try SnapshotFile.read(path: f.paths.snapshot)
        #expect(snap.generation == 2)
        #expect(snap.config.models.map(\.name) == ["b"])
    }

    @Test func anInvalidConfigNeverReplacesTheGoodOne() throws {
        let f = try Fixture()
        let publisher = SnapshotPublisher(configPath: f.configPath, paths: f.paths, controlBlock: f.block)
        try f.writeConfig(model: "good")
        _ = try publisher.publish(environment: [:])
        try "version: 1\nlisteners: nope\n".write(toFile: f.configPath, atomically: true, encoding: .utf8)
        #expect(throws: ConfigLoadError.self) { try publisher.publish(environment: [:]) }
        #expect(f.block.configGeneration == 1)
        #expect(try SnapshotFile.read(path: f.paths.snapshot).config.models.map(\.name) == ["good"])
    }
}
