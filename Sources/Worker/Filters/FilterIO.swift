import NIOCore

/// What a filter needs for I/O of its own (e.g. a remote content-safety check): the worker's
/// event loop and upstream pool. Set on every `RequestContext` by the connection handler.
struct FilterIO {
    let eventLoop: EventLoop
    let pool: UpstreamPool
}
