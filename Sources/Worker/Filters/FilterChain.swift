import NIOCore
import TollgateCore

/// The ordered filters of one config generation, and the loop that runs them.
struct FilterChain: Sendable {
    /// Registration: the request path, in order. A new filter joins with one line here.
    static let factories: [@Sendable (RuntimeConfig) -> any RequestFilter] = [
        { AuthFilter(config: $0) },
        { WAFFilter(config: $0) },
        { RequestParsingFilter(config: $0) },
        { ModelAccessFilter(config: $0) },
        { QuotaFilter(config: $0) },
        { GuardrailsFilter(config: $0) },
    ]

    let filters: [any RequestFilter]

    init(config: RuntimeConfig) {
        filters = Self.factories.map { $0(config) }
    }

    init(filters: [any RequestFilter]) {
        self.filters = filters
    }

    /// Runs the filters from `index` on; calls `done` exactly once, on the event loop, with
    /// nil when every filter let the request through or with the error to answer.
    func run(_ context: RequestContext, from index: Int = 0, eventLoop: EventLoop, done: @escaping (GatewayError?) -> Void) {
        var i = index
        while i < filters.count {
            switch filters[i].onRequest(context) {
            case .proceed:
                i += 1
            case .respond(let error):
                done(error)
                return
            case .suspend(let future):
                let next = i + 1
                let bound = NIOLoopBound((self, context, done), eventLoop: eventLoop)
                future.hop(to: eventLoop).whenComplete { result in
                    let (chain, context, done) = bound.value
                    switch result {
                    case .success(.proceed):
                        chain.run(context, from: next, eventLoop: eventLoop, done: done)
                    case .success(.respond(let error)):
                        done(error)
                    case .success(.suspend):
                        done(GatewayError(status: 500, type: "server_error", code: "filter_error",
                                          message: "A request filter suspended twice; this is a gateway bug."))
                    case .failure(let error):
                        done(GatewayError(status: 500, type: "server_error", code: "filter_error",
                                          message: "A request filter failed: \(error)"))
                    }
                }
                return
            }
        }
        done(nil)
    }
}
