import Foundation

/// A child process for live tests: output captured to a file (never a pipe that can fill up
/// and stall the child), helpers to wait for a line, signal it and reap it. Killed on deinit.
public final class ChildProcess: @unchecked Sendable {
    private let process = Process()
    private let outputPath: String
    private let lock = NSLock()

    public init(executable: String, arguments: [String], environment: [String: String]? = nil, currentDirectory: String? = nil) throws {
        outputPath = NSTemporaryDirectory() + "tollgate-child-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try handle.close()
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Everything the child wrote to stdout and stderr so far.
    public var output: String {
        (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    }

    /// Waits for a line containing `text`; throws with the output's tail on timeout or exit.
    public func waitForOutput(containing text: String, timeout: Double) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let out = output
            if let line = out.split(separator: "\n").first(where: { $0.contains(text) }) {
                return String(line)
            }
            if !process.isRunning {
                throw ChildProcessError("process exited (status \(process.terminationStatus)) before printing \"\(text)\"; output:\n\(out.suffix(3000))")
            }
            if Date() > deadline {
                throw ChildProcessError("timed out after \(timeout) s waiting for \"\(text)\"; output:\n\(out.suffix(3000))")
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    public func signal(_ sig: Int32) {
        kill(process.processIdentifier, sig)
    }

    /// The exit code, or 128 + signal number when it was killed.
    public func waitForExit(timeout: Double) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                throw ChildProcessError("still running after \(timeout) s; output:\n\(output.suffix(3000))")
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        unlink(outputPath)
    }
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Paths to the binary under test.
public enum TestBinary {
    /// `TOLLGATE_BIN`, else the `tollgate` built next to the test bundle.
    public static var tollgatePath: String {
        if let env = ProcessInfo.processInfo.environment["TOLLGATE_BIN"], !env.isEmpty { return env }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("tollgate").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        let fallback = FileManager.default.currentDirectoryPath + "/.build/debug/tollgate"
        return fallback
    }
}

/// A private temporary directory, removed when released.
public final class TempDirectory: Sendable {
    public let path: String

    public init() throws {
        path = NSTemporaryDirectory() + "tollgate-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    public func write(_ name: String, _ contents: String) throws -> String {
        let p = file(name)
        try contents.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
