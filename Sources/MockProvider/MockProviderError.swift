/// Why the mock provider could not start.
public enum MockProviderError: Error, CustomStringConvertible {
    case noLocalAddress(host: String, port: Int)

    public var description: String {
        switch self {
        case .noLocalAddress(let host, let port):
            return "mock-provider: the listener on \(host):\(port) has no local address"
        }
    }
}
