#if canImport(Glibc)
import Glibc
#endif

/// Checks, before any worker starts, that a listener address is free: a plain bind (with
/// SO_REUSEADDR, so connections in TIME_WAIT do not count, but without SO_REUSEPORT, so any
/// listening socket does) on a close-on-exec socket that is closed at once.
enum ListenerProbe {
    /// nil when the address can be bound, else why not.
    static func inUse(address: String, port: Int) -> String? {
        let host = address == "localhost" ? "127.0.0.1" : address
        var v4 = sockaddr_in()
        var v6 = sockaddr_in6()
        let isV6 = host.contains(":")
        if isV6 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = in_port_t(UInt16(port).bigEndian)
            guard inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 else { return "\(address) is not an IP address" }
        } else {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(UInt16(port).bigEndian)
            guard inet_pton(AF_INET, host, &v4.sin_addr) == 1 else { return "\(address) is not an IP address" }
        }
        let fd = socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc: Int32 = isV6
            ? withUnsafePointer(to: &v6) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
            : withUnsafePointer(to: &v4) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if rc == 0 { return nil }
        return errno == EADDRINUSE ? "address already in use (is another tollgate or server running there?)" : String(cString: strerror(errno))
    }
}
