import Foundation
import Testing
@testable import SharedState

@Suite struct ControlBlockTests {
    private func tempPath() -> String {
        NSTemporaryDirectory() + "tg-cb-\(UUID().uuidString).shm"
    }

    @Test func createThenOpenSharesGenerationAndCounters() throws {
        let path = tempPath()
        defer { unlink(path) }
        let writer = try ControlBlock.create(path: path, workerSlots: 4)
        let reader = try ControlBlock.open(path: path)
        #expect(reader.workerSlots == 4)
        #expect(reader.configGeneration == 0)
        writer.publishConfigGeneration(7)
        #expect(reader.configGeneration == 7)
        writer.stats(slot: 2).add(.requests, 5)
        reader.stats(slot: 3).add(.requests, 2)
        #expect(writer.total(.requests) == 7)
        #expect(reader.stats(slot: 2).value(.requests) == 5)
    }

    @Test func concurrentAddsAreExact() async throws {
        let path = tempPath()
        defer { unlink(path) }
        let block = try ControlBlock.create(path: path, workerSlots: 1)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let mapped = try! ControlBlock.open(path: path)
                    for _ in 0..<10_000 { mapped.stats(slot: 0).add(.upstreamAttempts) }
                }
            }
        }
        #expect(block.stats(slot: 0).value(.upstreamAttempts) == 80_000)
    }

    @Test func refusesFilesThatAreNotControlBlocks() throws {
        let path = tempPath()
        defer { unlink(path) }
        try Data(repeating: 0xAB, count: 256).write(to: URL(fileURLWithPath: path))
        #expect(throws: ControlBlock.Error.badMagic(path: path)) { try ControlBlock.open(path: path) }

        try Data(count: 10).write(to: URL(fileURLWithPath: path))
        #expect(throws: ControlBlock.Error.sizeMismatch(path: path, expected: 64, actual: 10)) { try ControlBlock.open(path: path) }
    }

    @Test func refusesOtherLayoutVersionsAndTruncation() throws {
        let path = tempPath()
        defer { unlink(path) }
        _ = try ControlBlock.create(path: path, workerSlots: 2)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[8] = 9
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(throws: ControlBlock.Error.unsupportedLayout(path: path, version: 9)) { try ControlBlock.open(path: path) }

        bytes[8] = 1
        try bytes.prefix(bytes.count - 8).write(to: URL(fileURLWithPath: path))
        #expect(throws: (any Error).self) { try ControlBlock.open(path: path) }
    }

    @Test func missingFileNamesThePath() {
        let path = tempPath()
        do {
            _ = try ControlBlock.open(path: path)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains(path))
        }
    }
}
