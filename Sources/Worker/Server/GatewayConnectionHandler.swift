import Logging
import NIOCore
import NIOHTTP1
import TollgateCore

/// One client connection: reads a request (enforcing size and time limits), answers local
/// endpoints, authenticates and validates API requests, and hands them to a `ProxyExchange`.
///
/// HTTP/1.1 with keep-alive; `HTTPServerPipelineHandler` in front of it guarantees one
/// request at a time. Every error goes out in the OpenAI error shape with the right status,
/// and a malformed request only ever costs its own connection.
final class GatewayConnectionHandler: ChannelInboundHandler, ProxyExchange.ClientSink {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Between requests (keep-alive).
        case idle
        case reading
        /// A response was sent before the request ended (413…): ignore the rest, then close.
        case discarding
        case responding
        case closed
    }

    private enum DeadlineKind {
        case idle
        case read
    }

    private let worker: WorkerContext
    private var context: ChannelHandlerContext?
    private var state: State = .idle
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var maxBody = 0
    private(set) var clientKeepAlive = true
    private var deadline: NIODeadline?
    private var deadlineKind: DeadlineKind = .idle
    private var exchange: ProxyExchange?
    private var requestStart = NIODeadline.now()
    private var requestID = ""
    private var keyName: String?
    private var modelName: String?
    private var registered = false
    /// The dialect of the current request, for error bodies.
    private var front: APIFront = .openAI

    init(worker: WorkerContext) {
        self.worker = worker
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        registered = true
        worker.register(self)
        armIdleDeadline()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        teardown()
    }

    func channelInactive(context: ChannelHandlerContext) {
        teardown()
        context.fireChannelInactive()
    }

    /// The channel is gone (or the handler removed): release the exchange and leave the
    /// worker's registry exactly once, whatever state the request was in.
    private func teardown() {
        state = .closed
        exchange?.clientClosed()
        exchange = nil
        deadline = nil
        if registered {
            registered = false
            worker.unregister(self)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            exchange?.clientBecameWritable()
        }
        context.fireChannelWritabilityChanged()
    }

    /// Raw bytes arrived (called by `RequestStartObserver`): a request has begun, so the
    /// read deadline replaces the idle one even before the head is complete (slowloris).
    func bytesArrived() {
        if state == .idle, deadlineKind == .idle {
            deadlineKind = .read
            deadline = .now() + .milliseconds(Int64(worker.configStore.current.limits.requestReadTimeoutMs))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            receivedHead(head)
        case .body(var buffer):
            guard state == .reading else { return }
            if body.readableBytes + buffer.readableBytes > maxBody {
                rejectEarly(.payloadTooLarge(limit: maxBody))
                return
            }
            body.writeBuffer(&buffer)
        case .end:
            switch state {
            case .reading:
                deadline = nil
                dispatch()
            case .discarding:
                close()
            default:
                break
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let parse = error as? HTTPParserError, state == .idle || state == .reading {
            let limit = worker.configStore.current.limits.maxHeaderBytes
            let gatewayError: GatewayError
            switch parse {
            case .headerOverflow:
                gatewayError = .headersTooLarge(limit: limit)
            default:
                gatewayError = .badRequest("Malformed HTTP request: \(parse).", code: "malformed_http")
            }
            clientKeepAlive = false
            if head == nil {
                head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
            }
            requestID = worker.makeRequestID()
            state = .responding
            respond(gatewayError)
            return
        }
        worker.logger.debug("client connection error", metadata: ["error": "\(error)", "state": "\(state)"])
        close()
    }

    // MARK: - Requests

    private func receivedHead(_ head: HTTPRequestHead) {
        guard state == .idle else { return }
        let config = worker.configStore.config()
        let limits = config.limits
        self.head = head
        self.state = .reading
        self.requestStart = .now()
        self.keyName = nil
        self.modelName = nil
        self.front = .openAI
        self.clientKeepAlive = head.isKeepAlive && !worker.draining
        self.requestID = Self.clientRequestID(head.headers) ?? worker.makeRequestID()
        self.maxBody = limits.maxBodyBytes
        self.deadlineKind = .read
        self.deadline = requestStart + .milliseconds(Int64(limits.requestReadTimeoutMs))
        body.clear()
        worker.stats?.add(.requests)
        if let length = head.headers.first(name: "content-length").flatMap({ Int($0) }), length > maxBody {
            rejectEarly(.payloadTooLarge(limit: maxBody))
        }
    }

    /// Answers before the request is complete; the connection cannot be reused afterwards.
    private func rejectEarly(_ error: GatewayError) {
        clientKeepAlive = false
        state = .discarding
        deadline = nil
        respond(error)
    }

    private func dispatch() {
        guard let head else { return }
        state = .responding
        let config = worker.configStore.config()
        let (path, query) = Self.splitURI(head.uri)
        switch path {
        case "/v1/chat/completions", "/chat/completions":
            guard head.method == .POST else { return respond(.methodNotAllowed("Use POST for \(path).", allow: "POST")) }
            proxy(endpoint: .chatCompletions, query: query, config: config)
        case "/v1/messages":
            front = .anthropic
            guard head.method == .POST else { return respond(.methodNotAllowed("Use POST for \(path).", allow: "POST")) }
            proxy(endpoint: .messages, query: query, config: config)
        case "/v1/messages/count_tokens":
            front = .anthropic
            guard head.method == .POST else { return respond(.methodNotAllowed("Use POST for \(path).", allow: "POST")) }
            proxy(endpoint: .countTokens, query: query, config: config)
        case "/v1/embeddings", "/embeddings":
            guard head.method == .POST else { return respond(.methodNotAllowed("Use POST for \(path).", allow: "POST")) }
            proxy(endpoint: .embeddings, query: query, config: config)
        case "/v1/models", "/models":
            guard head.method == .GET else { return respond(.methodNotAllowed("Use GET for \(path).", allow: "GET")) }
            listModels(config: config)
        case "/healthz":
            respondJSON(status: .ok, "{\"status\":\"ok\"}")
        case "/readyz":
            if worker.draining {
                respondJSON(status: .serviceUnavailable, "{\"status\":\"draining\",\"generation\":\(config.generation)}")
            } else {
                respondJSON(status: .ok, "{\"status\":\"ready\",\"generation\":\(config.generation)}")
            }
        case "/metrics":
            respondText(status: .ok, contentType: "text/plain; version=0.0.4", MetricsExporter.render(worker: worker, config: config))
        default:
            respond(.notFound("Invalid URL (\(head.method.rawValue) \(path))", code: "unknown_url"))
        }
    }

    /// Runs the filter chain; a request every filter let through goes upstream.
    private func proxy(endpoint: RequestContext.Endpoint, query: String, config: RuntimeConfig) {
        guard let head else { return }
        let request = RequestContext(head: head, body: body, query: query, endpoint: endpoint, requestID: requestID, config: config)
        request.quotaTable = worker.quotaTable
        request.quotaWorker = worker.quotaWorker
        request.strictQuota = worker.strictQuotaPool(for: config)
        request.counters = worker.controlBlock?.labeledCounters
        request.wafThread = worker.wafThread(for: config)
        request.clientAddress = context?.channel.remoteAddress
        request.io = FilterIO(eventLoop: worker.eventLoop, pool: worker.pool)
        let chain = worker.configStore.chain
        chain.run(request, eventLoop: worker.eventLoop) { [weak self] error in
            guard let self, self.state == .responding else {
                request.admission?.settle(.notServed)
                return
            }
            self.keyName = request.key?.name
            self.modelName = request.modelName
            if let error {
                if error.status == 429 {
                    self.worker.stats?.add(error.code == "budget_exceeded" ? .budgetRejected : .quotaRejected)
                }
                // A later filter refused it: the provider was never called.
                request.admission?.settle(.notServed)
                return self.respond(error, extraHeaders: request.admission?.headers ?? [])
            }
            guard let route = request.route, let modelRange = request.modelRange, let model = request.modelName else {
                request.admission?.settle(.notServed)
                return self.respond(GatewayError(status: 500, type: "server_error", code: "filter_error",
                                                 message: "The request passed the filter chain without a route; this is a gateway bug."))
            }
            let proxied = ProxyExchange.Request(endpoint: endpoint, query: query, clientHead: head, body: request.body,
                                                modelRange: modelRange, publicModel: model, requestID: self.requestID,
                                                stream: request.stream, includeUsage: request.includeUsage,
                                                streamOptionsRange: request.streamOptionsRange, maxTokens: request.maxTokens,
                                                admission: request.admission,
                                                extraResponseHeaders: request.responseHeaders,
                                                responseGuardrails: request.responseGuardrails)
            let exchange = ProxyExchange(sink: self, worker: self.worker, config: config, route: route, request: proxied)
            self.exchange = exchange
            exchange.start()
        }
    }

    /// The models the key may use, in OpenAI's list shape, or in Anthropic's when the client
    /// sends `anthropic-version` (the Anthropic SDKs and Claude Code always do).
    private func listModels(config: RuntimeConfig) {
        guard let head else { return }
        if head.headers.contains(name: "anthropic-version") { front = .anthropic }
        let key: KeyTable.Entry
        switch AuthFilter.authenticate(head.headers, keys: config.keys) {
        case .success(let entry): key = entry
        case .failure(let error): return respond(error)
        }
        keyName = key.name
        let names = config.modelNames.filter { key.mayUse(model: $0) }
        let out: String
        switch front {
        case .openAI:
            out = "{\"object\":\"list\",\"data\":[" + names.map {
                "{\"id\":" + JSONWriter.quoted($0) + ",\"object\":\"model\",\"created\":0,\"owned_by\":\"tollgate\"}"
            }.joined(separator: ",") + "]}"
        case .anthropic:
            out = "{\"data\":[" + names.map {
                "{\"type\":\"model\",\"id\":" + JSONWriter.quoted($0) + ",\"display_name\":" + JSONWriter.quoted($0) + ",\"created_at\":\"1970-01-01T00:00:00Z\"}"
            }.joined(separator: ",") + "],\"has_more\":false,\"first_id\":" + (names.first.map(JSONWriter.quoted) ?? "null")
                + ",\"last_id\":" + (names.last.map(JSONWriter.quoted) ?? "null") + "}"
        }
        respondJSON(status: .ok, out)
    }

    // MARK: - Responses

    private func respond(_ error: GatewayError, extraHeaders: [(String, String)] = []) {
        var headers = HTTPHeaders(extraHeaders)
        for (name, value) in error.headers { headers.add(name: name, value: value) }
        respondText(status: HTTPResponseStatus(statusCode: error.status), contentType: "application/json",
                    error.body(for: front), extraHeaders: headers)
    }

    private func respondJSON(status: HTTPResponseStatus, _ json: String) {
        respondText(status: status, contentType: "application/json", json)
    }

    private func respondText(status: HTTPResponseStatus, contentType: String, _ text: String, extraHeaders: HTTPHeaders = [:]) {
        guard let context, let head else { return }
        var headers = extraHeaders
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: String(text.utf8.count))
        headers.add(name: "x-request-id", value: requestID)
        if !clientKeepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        finishResponse(status: Int(status.code), backend: nil, attempts: 0, abort: false)
    }

    // MARK: - ClientSink

    var clientIsWritable: Bool { context?.channel.isWritable ?? false }

    func sendHead(_ head: HTTPResponseHead) {
        context?.write(wrapOutboundOut(.head(head)), promise: nil)
    }

    func sendBody(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
    }

    func flushClient() {
        context?.flush()
    }

    func exchangeFinished(status: Int, backend: String?, attempts: Int, ending: ResponseEnding) {
        exchange = nil
        if ending == .completeAndClose { clientKeepAlive = false }
        finishResponse(status: status, backend: backend, attempts: attempts, abort: ending == .abort)
    }

    func sendError(_ error: GatewayError, attempts: Int) {
        exchange = nil
        respond(error, extraHeaders: [("x-tollgate-attempts", String(attempts))])
    }

    private func finishResponse(status: Int, backend: String?, attempts: Int, abort: Bool) {
        guard let context else { return }
        switch status {
        case 200..<300: worker.stats?.add(.responses2xx)
        case 400..<500: worker.stats?.add(.responses4xx)
        case 500..<600: worker.stats?.add(.responses5xx)
        default: break
        }
        if worker.accessLog, let head {
            let ms = Double((NIODeadline.now() - requestStart).nanoseconds) / 1_000_000
            worker.logger.info("request", metadata: [
                "request_id": "\(requestID)", "method": "\(head.method.rawValue)", "path": "\(Self.splitURI(head.uri).0)",
                "status": "\(status)", "key": "\(keyName ?? "-")", "model": "\(modelName ?? "-")",
                "backend": "\(backend ?? "-")", "attempts": "\(attempts)", "duration_ms": "\(ms)",
            ])
        }
        if abort {
            state = .closed
            context.flush()
            context.close(promise: nil)
            return
        }
        let keepAlive = clientKeepAlive && !worker.draining
        let wasDiscarding = state == .discarding
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            state = .idle
            head = nil
            body.clear()
            if body.capacity > 64 * 1024 { body = ByteBuffer() }
            armIdleDeadline()
        } else if wasDiscarding {
            // Tell the client now; the rest of its upload is read and dropped until it stops.
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            deadlineKind = .read
            deadline = .now() + .seconds(2)
        } else {
            state = .closed
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
    }

    private func armIdleDeadline() {
        deadlineKind = .idle
        deadline = .now() + .milliseconds(Int64(worker.configStore.current.limits.idleTimeoutMs))
    }

    private func close() {
        guard let context, state != .closed else { return }
        state = .closed
        context.close(promise: nil)
    }

    // MARK: - Worker hooks

    func checkDeadlines(now: NIODeadline) {
        exchange?.checkDeadline(now: now)
        guard let deadline, now >= deadline else { return }
        self.deadline = nil
        switch (state, deadlineKind) {
        case (.idle, _), (.discarding, _):
            // Idle too long, or headers trickling in too slowly (no request to answer yet).
            close()
        case (.reading, _):
            clientKeepAlive = false
            state = .responding
            respond(.requestTimeout("The request was not received completely within \(worker.configStore.current.limits.requestReadTimeoutMs) ms."))
        default:
            break
        }
    }

    /// Graceful shutdown: an idle connection closes now; a busy one after its response.
    func drain() {
        if state == .idle && deadlineKind == .idle {
            close()
        } else {
            clientKeepAlive = false
        }
    }

    // MARK: - Helpers

    static func splitURI(_ uri: String) -> (String, String) {
        guard let q = uri.firstIndex(of: "?") else { return (uri, "") }
        return (String(uri[..<q]), String(uri[uri.index(after: q)...]))
    }

    /// A client-supplied request id is kept when it is short and printable, so callers can
    /// correlate their logs with ours.
    static func clientRequestID(_ headers: HTTPHeaders) -> String? {
        guard let id = headers.first(name: "x-request-id"), !id.isEmpty, id.utf8.count <= 128,
              id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        return id
    }
}

/// Sits before the HTTP decoder and tells the connection handler that bytes of a new request
/// arrived, so a client that trickles its headers is timed out like one that trickles a body.
final class RequestStartObserver: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private weak var handler: GatewayConnectionHandler?

    init(handler: GatewayConnectionHandler) {
        self.handler = handler
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        handler?.bytesArrived()
        context.fireChannelRead(data)
    }
}
