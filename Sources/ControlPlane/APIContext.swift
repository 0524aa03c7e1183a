import Hummingbird
import NIOCore

/// The request context: Hummingbird's core storage plus the peer address, which goes into
/// every audit entry.
struct APIContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let sourceIP: String

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        sourceIP = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}
