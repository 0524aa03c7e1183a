import Logging
import NIOCore
import NIOHTTP1
import TollgateCore

/// One client connection: reads a request (enforcing size and time limits), answers local
/// endpoints, authenticates and validates API requests, and hands them to a `ProxyExchange`.
///
/// HTTP/1.1 with keep-alive; `HTTPServerPipelineHandler` in front of it guarantees one
/// request at a time (and holds pipelined ones until the response before them ended). Every
/// error goes out in the front's error shape with the right status, and a malformed request
/// only ever costs its own connection.
///
/// API requests are authenticated on their head, before any of the body is read: a request
/// without a valid key gets its 401 at once, and at most `limits.max_refused_body_bytes` of its
/// upload is read (and dropped) before the connection closes. HTTP/1.1 requires `Host` (400).
///
/// On the admin listener (`role == .admin`) only `/metrics` and the probes answer.
final class GatewayConnectionHandler: ChannelInboundHandler, ProxyExchange.ClientSink {
    /// Which listener the connection came in on.
    enum Role {
        case client
        case admin
    }

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
    private let role: Role
    private var context: ChannelHandlerContext?
    /// The key the head authenticated (API requests), handed to the filter chain.
    private var authenticatedKey: KeyTable.Entry?
    private var authenticatedGeneration: UInt64 = 0
    /// Body bytes of a refused request read and dropped so far, and how many may be.
    private var discardedBytes = 0
    private var maxDiscardBytes = 0
    /// A refusal decided on the head of a request whose small body is still coming: the body
    /// is dropped as it arrives and the error answered at its end, keeping the connection.
    private var pendingRefusal: GatewayError?
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

    init(worker: WorkerContext, role: Role = .client) {
        self.worker = worker
        self.role = role
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
            if state == .discarding {
                // The answer is out; read a little more of the upload so the client sees it
                // rather than a reset, but not a 10 MiB body nobody will use.
                discardedBytes += buffer.readableBytes
                if discardedBytes > maxDiscardBytes { close() }
                return
            }
            guard state == .reading else { return }
            if let refusal = pendingRefusal {
                discardedBytes += buffer.readableBytes
                if discardedBytes > maxDiscardBytes { rejectEarly(refusal) }
                return
            }
            if body.readableBytes + buffer.readableBytes > maxBody {
                rejectEarly(.payloadTooLarge(limit: maxBody))
                return
            }
            body.writeBuffer(&buffer)
        case .end:
            switch state {
            case .reading:
                deadline = nil
                if let refusal = pendingRefusal {
                    pendingRefusal = nil
                    state = .responding
                    return respond(refusal)
                }
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
        self.authenticatedKey = nil
        self.pendingRefusal = nil
        self.discardedBytes = 0
        self.maxDiscardBytes = limits.maxRefusedBodyBytes
        self.clientKeepAlive = head.isKeepAlive && !worker.draining
        self.requestID = Self.clientRequestID(head.headers) ?? worker.makeRequestID()
        self.maxBody = limits.maxBodyBytes
        self.deadlineKind = .read
        self.deadline = requestStart + .milliseconds(Int64(limits.requestReadTimeoutMs))
        body.clear()
        worker.stats?.add(.requests)
        if head.version.major == 1, head.version.minor >= 1 {
            let hosts = head.headers[canonicalForm: "host"]
            if hosts.count != 1 || hosts[0].isEmpty {
                return rejectEarly(.badRequest(hosts.isEmpty ? "HTTP/1.1 requests must carry a Host header." : "The request carries more than one Host header.",
                                               code: "invalid_host"))
            }
        }
        if let length = head.headers.first(name: "content-length").flatMap({ Int($0) }), length > maxBody {
            return rejectEarly(.payloadTooLarge(limit: maxBody))
        }
        // API requests: the key is checked now, on the head, so an unauthenticated client
        // cannot make the gateway read (and buffer) its body.
        if role == .client, head.method == .POST, let endpoint = Self.apiEndpoint(Self.splitURI(head.uri).0) {
            front = endpoint.front
            switch AuthFilter.authenticate(head.headers, keys: config.keys) {
            case .success(let entry):
                authenticatedKey = entry
                authenticatedGeneration = config.generation
            case .failure(let error):
                // A small body (the usual unauthenticated probe) is read and dropped and the
                // connection kept; a large or unbounded one gets its answer now, and the
                // connection closes after at most max_refused_body_bytes more.
                let chunked = head.headers.contains(name: "transfer-encoding")
                let length = chunked ? nil : head.headers.first(name: "content-length").map { Int($0) } ?? 0
                if let length, length <= maxDiscardBytes {
                    pendingRefusal = error
                } else {
                    return rejectEarly(error)
                }
            }
        }
    }

    /// The API operation at `path`, if it is one.
    static func apiEndpoint(_ path: String) -> RequestContext.Endpoint? {
        switch path {
        case "/v1/chat/completions", "/chat/completions": return .chatCompletions
        case "/v1/messages": return .messages
        case "/v1/messages/count_tokens": return .countTokens
        case "/v1/embeddings", "/embeddings": return .embeddings
        default: return nil
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
        if role == .admin { return dispatchAdmin(path: path, config: config) }
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
        case "/healthz", "/readyz":
            probe(path, config: config)
        default:
            respond(.notFound("Invalid URL (\(head.method.rawValue) \(path))", code: "unknown_url"))
        }
    }

    /// The admin listener: metrics for the operator's scraper, and the probes.
    private func dispatchAdmin(path: String, config: RuntimeConfig) {
        guard let head else { return }
        switch path {
        case "/metrics":
            guard head.method == .GET || head.method == .HEAD else { return respond(.methodNotAllowed("Use GET for \(path).", allow: "GET, HEAD")) }
            respondText(status: .ok, contentType: "text/plain; version=0.0.4", MetricsExporter.render(worker: worker, config: config))
        case "/healthz", "/readyz":
            probe(path, config: config)
        default:
            respond(.notFound("Invalid URL (\(head.method.rawValue) \(path))", code: "unknown_url"))
        }
    }

    /// `/healthz` (the process answers) and `/readyz` (503 while draining), GET or HEAD only.
    private func probe(_ path: String, config: RuntimeConfig) {
        guard let head else { return }
        guard head.method == .GET || head.method == .HEAD else {
            return respond(.methodNotAllowed("Use GET or HEAD for \(path).", allow: "GET, HEAD"))
        }
        if path == "/healthz" {
            respondJSON(status: .ok, "{\"status\":\"ok\"}")
        } else if worker.draining {
            respondJSON(status: .serviceUnavailable, "{\"status\":\"draining\",\"generation\":\(config.generation)}")
        } else {
            respondJSON(status: .ok, "{\"status\":\"ready\",\"generation\":\(config.generation)}")
        }
    }

    /// Runs the filter chain; a request every filter let through goes upstream.
    private func proxy(endpoint: RequestContext.Endpoint, query: String, config: RuntimeConfig) {
        guard let head else { return }
        let request = RequestContext(head: head, body: body, query: query, endpoint: endpoint, requestID: requestID, config: config)
        // A reload between head and body re-authenticates against the new keys.
        request.key = authenticatedGeneration == config.generation ? authenticatedKey : nil
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
            // The client's query string reaches the upstream only where the route says so.
            var proxied = ProxyExchange.Request(endpoint: endpoint, query: route.forwardQuery ? query : "", clientHead: head, body: request.body,
                                                modelRange: modelRange, publicModel: model, requestID: self.requestID,
                                                stream: request.stream, includeUsage: request.includeUsage,
                                                streamOptionsRange: request.streamOptionsRange, maxTokens: request.maxTokens,
                                                admission: request.admission,
                                                extraResponseHeaders: request.responseHeaders,
                                                responseGuardrails: request.responseGuardrails)
            proxied.chat = request.chatRequest
            proxied.streamLimits = StreamLimits(maxSSELineBytes: config.limits.maxSSELineBytes,
                                                maxEventFrameBytes: config.limits.maxEventFrameBytes)
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
        worker.recordUsage(key: keyName, model: modelName, status: error.status, code: error.code, outcome: nil, since: requestStart)
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
        if head.method != .HEAD {
            var buffer = context.channel.allocator.buffer(capacity: text.utf8.count)
            buffer.writeString(text)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
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
        worker.recordUsage(key: keyName, model: modelName, status: status, code: nil, outcome: exchange?.settledOutcome, since: requestStart)
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
            // Ready for the next request first: writing `.end` makes the pipeline handler
            // deliver a pipelined request synchronously, into this handler.
            state = .idle
            head = nil
            body.clear()
            if body.capacity > 64 * 1024 { body = ByteBuffer() }
            armIdleDeadline()
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
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
