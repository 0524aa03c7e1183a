#if canImport(Glibc)
import Glibc
#endif
import CTollgate

/// Spawns a copy of this executable (`/proc/self/exe`) with posix_spawn — fork+exec in one
/// call, never a bare fork, which would hang a child that inherited Dispatch's threads.
/// Signal dispositions and masks are reset in the child and every descriptor above stderr is
/// closed, so no child inherits a listener or a file it should not have.
enum ChildProcess {
    struct SpawnError: Error, CustomStringConvertible {
        var role: String
        var errno: Int32
        var description: String { "cannot spawn \(role): \(String(cString: strerror(errno)))" }
    }

    static func spawn(executable: String, arguments: [String], role: String) throws(SpawnError) -> pid_t {
        let argv = ["tollgate"] + arguments
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArgs.append(nil)
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = executable.withCString { path in
            tg_spawn(&pid, path, cArgs, environ, true, true)
        }
        guard rc == 0 else { throw SpawnError(role: role, errno: rc) }
        return pid
    }

    /// The path children are spawned from: the running binary itself, resolved once at start
    /// (so an upgrade of the file on disk cannot mix versions within one data plane).
    static func currentExecutable() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        if n > 0 {
            return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return CommandLine.arguments[0]
    }

    /// Describes a `waitpid` status for logs.
    static func describe(status: Int32) -> String {
        let sig = status & 0x7f
        if sig == 0 {
            return "exit code \((status >> 8) & 0xff)"
        }
        return "signal \(sig)" + ((status & 0x80) != 0 ? " (core dumped)" : "")
    }

    static func exitCode(status: Int32) -> Int32? {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : nil
    }
}
