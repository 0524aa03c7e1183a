import Guardrails
import Logging
import NIOCore
import NIOHTTP1
import SharedState
import TollgateCore

/// The caps a response translator's stream parsers run with, from `limits:`.
struct StreamLimits: Sendable {
    var maxSSELineBytes = SSEParser.defaultMaxLineBytes
    var maxEventFrameBytes = EventStreamDecoder.defaultMaxMessageBytes
}

/// How a relayed response ends on the client connection.
enum ResponseEnding {
    /// Normally; the connection may be reused.
    case complete
    /// Normally framed, but the connection is closed afterwards (the exchange failed late).
    case completeAndClose
    /// Cut without terminating the body, so the client sees a truncated response.
    case abort
}

/// One client request's trip upstream: walks the route's fallback chain (driven by the pure
/// `FallbackStateMachine`), and once a backend answers with a non-retriable status, relays
/// its response to the client part by part with backpressure.
///
/// Lives on the worker's event loop. Its only link to the client is `ClientSink`, so it does
/// not know about HTTP/1 connection state; its only link to the network is the pool.
///
/// Confined to the worker's single event loop; it is marked `Sendable` only so it can be
/// captured by that loop's future callbacks and scheduled tasks. Never touch it elsewhere.
final class ProxyExchange: UpstreamResponseDelegate, @unchecked Sendable {
    /// What the exchange needs from the client side of the connection.
    protocol ClientSink: AnyObject {
        var clientIsWritable: Bool { get }
        var clientKeepAlive: Bool { get }
        func sendHead(_ head: HTTPResponseHead)
        func sendBody(_ buffer: ByteBuffer)
        func flushClient()
        /// The response ended as `ending` says.
        func exchangeFinished(status: Int, backend: String?, attempts: Int, ending: ResponseEnding)
        func sendError(_ error: GatewayError, attempts: Int)
    }

    /// What the client asked for, prepared once.
    struct Request {
        let endpoint: RequestContext.Endpoint
        let query: String
        let clientHead: HTTPRequestHead
        let body: ByteBuffer
        /// Byte range of the `model` value inside `body` (quotes included).
        let modelRange: Range<Int>
        let publicModel: String
        let requestID: String
        let stream: Bool
        /// The client asked for a usage chunk at the end of a stream.
        let includeUsage: Bool
        /// Byte range of the `stream_options` value inside `body`, if present.
        let streamOptionsRange: Range<Int>?
        var maxTokens: Int? = nil
        /// Caps of the stream parsers (`limits.max_sse_line_bytes`, `max_event_frame_bytes`).
        var streamLimits = StreamLimits()
        /// The quota this request holds, settled when the exchange ends (nil: no limits apply).
        var admission: QuotaAdmission? = nil
        /// Headers the filter chain adds to the response (e.g. `x-tollgate-guardrails`).
        var extraResponseHeaders: [(String, String)] = []
        /// Guardrails on the output, layered over the adapter's translator.
        var responseGuardrails: GuardrailEngine?
        /// The decoded chat request (`RequestParsingFilter`), nil when a filter rewrote the body since.
        var chat: ChatRequest? = nil
    }

    private enum State {
        case idle
        case connecting(FallbackPlan.BackendRef)
        case waitingHead(FallbackPlan.BackendRef, UpstreamConnection)
        case streaming(FallbackPlan.BackendRef, UpstreamConnection)
        case finished
    }

    private unowned let sink: ClientSink
    private let worker: WorkerContext
    private let config: RuntimeConfig
    private let route: CompiledRoute
    private let request: Request
    private var machine: FallbackStateMachine
    private var state: State = .idle
    /// Bumped per attempt so late callbacks of an abandoned attempt are ignored.
    private var attemptToken = 0
    /// The pool waiter of the attempt in `.connecting`, while it waits for a connection.
    private var pendingLease: Int?
    private var staleRetryUsed = false
    private var deadline: NIODeadline?
    private var readPaused = false
    private var isEventStream = false
    private var servedStatus = 0
    /// Set when the serving backend's adapter translates its responses.
    private var translator: (any ResponseTranslator)?
    /// The adapter's own translator under any guardrail layer: the one whose stream parser
    /// reports a broken stream.
    private var adapterTranslator: (any ResponseTranslator)?
    /// The current attempt's reservation on its provider's budget (`providers[].budget`).
    private var providerAdmission: QuotaAdmission?
    /// How the request's consumption was last settled, for usage metering.
    private(set) var settledOutcome: QuotaAdmission.Outcome?
    /// Buffered translation: the upstream body collected so far.
    private var collected: ByteBuffer?
    private var collectedHead: HTTPResponseHead?

    init(sink: ClientSink, worker: WorkerContext, config: RuntimeConfig, route: CompiledRoute, request: Request) {
        self.sink = sink
        self.worker = worker
        self.config = config
        self.route = route
        self.request = request
        var cooling: [FallbackPlan.BackendRef: Int] = [:]
        if !worker.cooldowns.isEmpty {
            let now = NIODeadline.now()
            for (p, level) in route.priorities.enumerated() {
                for (i, backend) in level.enumerated() {
                    if let until = worker.cooldowns[backend.id], until > now {
                        cooling[FallbackPlan.BackendRef(priority: p, index: i)] = Int((until - now).nanoseconds / 1_000_000)
                    }
                }
            }
        }
        self.machine = FallbackStateMachine(plan: route.plan, coolingDown: cooling,
                                            maxRetryAfterWaitMs: config.limits.maxRetryAfterWaitMs,
                                            seed: worker.nextRandom())
    }

    func start() {
        advance()
    }

    // MARK: - Walking the chain

    private func advance() {
        switch machine.next() {
        case .attempt(let ref):
            attempt(ref, forceNewConnection: false)
        case .wait(let ms, let ref):
            state = .connecting(ref)
            attemptToken += 1
            let token = attemptToken
            worker.eventLoop.scheduleTask(in: .milliseconds(Int64(ms))) { [weak self] in
                guard let self, self.attemptToken == token, case .connecting = self.state else { return }
                self.attempt(ref, forceNewConnection: false)
            }
        case .exhausted(let exhaustion):
            fail(exhaustion)
        }
    }

    private func attempt(_ ref: FallbackPlan.BackendRef, forceNewConnection: Bool) {
        let backend = route.backend(ref)
        let upstreamRequest: UpstreamRequest
        switch backend.provider.adapter.upstreamRequest(for: request, backend: backend) {
        case .success(let r):
            upstreamRequest = r
        case .failure(let error):
            // The client's request cannot be expressed for this provider: its fault, not the
            // backend's, so answer now rather than fall back.
            state = .finished
            deadline = nil
            settleQuota(.notServed)
            sink.sendError(error, attempts: machine.attempts)
            return
        }
        guard reserveProviderBudget(backend) else { return }
        state = .connecting(ref)
        attemptToken += 1
        let token = attemptToken
        worker.stats?.add(.upstreamAttempts)
        if machine.attempts > 1 && !forceNewConnection {
            // A stale-connection retry is the same attempt again, not a fallback.
            worker.stats?.add(.fallbacks)
        }
        let limits = config.limits
        deadline = nil
        let lease = worker.pool.lease(backend.provider.target,
                                      connectTimeout: .milliseconds(Int64(limits.upstreamConnectTimeoutMs)),
                                      forceNew: forceNewConnection)
        pendingLease = lease.waiterID
        lease.future
            .whenComplete { [weak self] result in
                guard let self else {
                    if case .success(let (conn, _)) = result { conn.close() }
                    return
                }
                if self.attemptToken == token { self.pendingLease = nil }
                guard self.attemptToken == token, case .connecting = self.state else {
                    if case .success(let (conn, _)) = result { conn.close() }
                    return
                }
                switch result {
                case .success(let (conn, reused)):
                    self.send(upstreamRequest, to: conn, backend: backend, ref: ref, reused: reused)
                case .failure(let error):
                    let failure: FallbackStateMachine.Failure
                    if case ChannelError.connectTimeout = error {
                        failure = .timeout(.connect)
                    } else if let pool = error as? UpstreamPoolError {
                        switch pool.kind {
                        case .waitTimedOut: failure = .timeout(.connect)
                        case .waitQueueFull, .shutDown, .cancelled: failure = .poolSaturated(pool.description)
                        case .connectFailed: failure = .connectFailed(pool.description)
                        }
                    } else {
                        failure = .connectFailed(Self.describe(error))
                    }
                    self.attemptFailed(failure, backend: backend)
                }
            }
    }

    private func send(_ upstream: UpstreamRequest, to conn: UpstreamConnection, backend: CompiledBackend, ref: FallbackPlan.BackendRef, reused: Bool) {
        conn.lease(to: self)
        state = .waitingHead(ref, conn)
        staleCandidate = reused
        let target = backend.provider.target
        var headers = HTTPHeaders()
        headers.reserveCapacity(12)
        headers.add(name: "host", value: target.hostHeader)
        headers.add(name: "content-type", value: "application/json")
        for (name, value) in backend.provider.authHeaders {
            headers.add(name: name, value: value)
        }
        for (name, value) in upstream.headers {
            headers.add(name: name, value: value)
        }
        for (name, value) in backend.provider.extraHeaders {
            headers.add(name: name, value: value)
        }
        for name in Self.forwardedClientHeaders {
            for value in request.clientHead.headers[name] {
                headers.add(name: name, value: value)
            }
        }
        headers.add(name: "x-request-id", value: request.requestID)

        var body = conn.channel.allocator.buffer(capacity: upstream.body.count)
        body.writeBytes(upstream.body)
        headers.add(name: "content-length", value: String(body.readableBytes))
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: target.basePath + upstream.path, headers: headers)
        conn.write(head: head, body: body)
        conn.read()
        deadline = .now() + .milliseconds(Int64(config.limits.upstreamFirstByteTimeoutMs))
    }

    /// Whether the current connection came from the pool (a failure before any response byte
    /// then most likely means the server closed it while idle: retry once on a fresh one).
    private var staleCandidate = false

    private func attemptFailed(_ failure: FallbackStateMachine.Failure, backend: CompiledBackend) {
        worker.stats?.add(.upstreamFailures)
        worker.logger.warning("upstream attempt failed", metadata: [
            "request_id": "\(request.requestID)", "backend": "\(backend.id)", "reason": "\(failure.summary)",
        ])
        if case .status(let code, let retryAfterMs?) = failure, code == 429 || code == 503 {
            worker.cooldowns[backend.id] = .now() + .milliseconds(Int64(min(retryAfterMs, 300_000)))
        }
        state = .idle
        deadline = nil
        providerAdmission?.settle(.notServed)
        providerAdmission = nil
        machine.attemptFailed(failure)
        advance()
    }

    /// Quota-aware routing: a backend whose provider is over budget is skipped like a failed
    /// attempt (without calling it); otherwise the attempt reserves its estimate there.
    private func reserveProviderBudget(_ backend: CompiledBackend) -> Bool {
        providerAdmission?.settle(.notServed)
        providerAdmission = nil
        guard let limits = config.quotaPlan.byProvider[backend.provider.name], let table = worker.quotaTable else { return true }
        let estimate = request.admission?.estimate
            ?? QuotaEstimate.usage(bodyBytes: request.body.readableBytes, maxTokens: request.maxTokens, endpoint: request.endpoint, route: route)
        let charges = limits.map { QuotaCharge($0, cost: estimate[$0.definition.unit]) }
        switch table.acquire(charges, worker: worker.quotaWorker, onTableFull: config.quotaPlan.onTableFull) {
        case .admitted(let reservation):
            providerAdmission = QuotaAdmission(table: table, reservation: reservation, estimate: estimate)
            return true
        case .rejected(let rejection):
            attemptFailed(.overBudget(limits[rejection.index].name), backend: backend)
            return false
        }
    }

    /// Settles the request's quota and the serving provider's budget (each exactly once).
    private func settleQuota(_ outcome: QuotaAdmission.Outcome) {
        settledOutcome = outcome
        request.admission?.settle(outcome)
        providerAdmission?.settle(outcome)
        providerAdmission = nil
    }

    /// What a response that ended consumed, as far as the exchange knows.
    private func servedOutcome(_ backend: CompiledBackend) -> QuotaAdmission.Outcome {
        if let usage = translator?.usage {
            if usage.wasClamped {
                worker.logger.warning("upstream reported token counts out of range; clamped", metadata: [
                    "request_id": "\(request.requestID)", "backend": "\(backend.id)",
                    "prompt_tokens": "\(usage.promptTokens)", "completion_tokens": "\(usage.completionTokens)",
                ])
            }
            return .served(usage, backend.price)
        }
        return servedStatus >= 400 ? .notServed : .unknown
    }

    private func fail(_ exhaustion: FallbackStateMachine.Exhaustion) {
        state = .finished
        deadline = nil
        settleQuota(.notServed)
        var tried: [String] = []
        var attemptsJSON: [String] = []
        for record in exhaustion.records {
            let id = route.backend(record.backend).id
            let what: String
            switch record.outcome {
            case .failed(let f): what = f.summary
            case .skippedCoolingDown(let ms): what = "skipped: cooling down after retry-after (\(ms) ms left)"
            }
            tried.append("\(id): \(what)")
            attemptsJSON.append("{\"backend\":\(JSONWriter.quoted(id)),\"outcome\":\(JSONWriter.quoted(what))}")
        }
        let message = "No backend could serve model '\(request.publicModel)' (route '\(route.name)'). Tried: "
            + (tried.isEmpty ? "nothing" : tried.joined(separator: "; "))
        let code: String
        switch exhaustion.status {
        case 503: code = "upstream_unavailable"
        case 504: code = "upstream_timeout"
        default: code = "upstream_error"
        }
        var error = GatewayError(status: exhaustion.status, type: "server_error", code: code, message: message,
                                 extraJSONMembers: [("attempts", "[" + attemptsJSON.joined(separator: ",") + "]")])
        if let ra = exhaustion.retryAfterSeconds {
            error.headers.append(("retry-after", String(ra)))
        }
        sink.sendError(error, attempts: machine.attempts)
    }

    // MARK: - UpstreamResponseDelegate

    func upstreamHead(_ head: HTTPResponseHead) {
        guard case .waitingHead(let ref, let conn) = state else { return }
        let backend = route.backend(ref)
        let status = Int(head.status.code)
        if FallbackStateMachine.isRetriable(status: status) {
            // Nothing reached the client yet: drop this connection and try the next backend.
            conn.close()
            let retryAfter = Self.parseRetryAfter(head.headers)
            if let note = retryAfter.note {
                worker.logger.warning("upstream retry-after out of range", metadata: [
                    "request_id": "\(request.requestID)", "backend": "\(backend.id)", "detail": "\(note)",
                ])
            }
            attemptFailed(.status(status, retryAfterMs: retryAfter.ms), backend: backend)
            return
        }
        servedStatus = status
        state = .streaming(ref, conn)
        deadline = .now() + .milliseconds(Int64(config.limits.upstreamIdleTimeoutMs))
        translator = backend.provider.adapter.responseTranslator(for: request, backend: backend)
        adapterTranslator = translator
        if let engine = request.responseGuardrails, let inner = translator {
            translator = GuardedResponseTranslator(inner: inner, engine: engine, endpoint: request.endpoint, requestID: request.requestID, logger: worker.logger,
                                                   counters: worker.controlBlock?.labeledCounters)
        }
        var translatedContentType: String?
        if let translator {
            switch translator.mode(status: status, headers: head.headers) {
            case .buffered:
                // The whole body is needed first; the head goes out with it.
                collected = ByteBuffer()
                collectedHead = head
                return
            case .stream(let contentType):
                translatedContentType = contentType
            case .passthrough:
                self.translator = nil
            }
        }
        var headers = clientHeaders(from: head.headers, dropRepresentation: translatedContentType != nil, backend: backend)
        if let translatedContentType {
            headers.add(name: "content-type", value: translatedContentType)
        }
        isEventStream = (translatedContentType ?? head.headers.first(name: "content-type") ?? "").hasPrefix("text/event-stream")
        sink.sendHead(HTTPResponseHead(version: request.clientHead.version, status: head.status, headers: headers))
    }

    /// Gives up collecting a response the client can take as it is: sends the head and what
    /// was collected, and relays the rest untouched (its usage goes unaccounted, and says so).
    private func relayUntranslated(head: HTTPResponseHead, backend: CompiledBackend) {
        guard let body = collected else { return }
        collected = nil
        collectedHead = nil
        translator = nil
        worker.logger.warning("upstream response too large to account; relayed without usage", metadata: [
            "request_id": "\(request.requestID)", "backend": "\(backend.id)", "limit": "\(config.limits.maxResponseCollectBytes)",
        ])
        isEventStream = false
        sink.sendHead(HTTPResponseHead(version: request.clientHead.version, status: head.status,
                                       headers: clientHeaders(from: head.headers, dropRepresentation: false, backend: backend)))
        sink.sendBody(body)
    }

    /// The upstream's headers minus hop-by-hop ones (and, when the body is rewritten, the ones
    /// describing its bytes), the upstream's request id renamed, plus the gateway's own.
    private func clientHeaders(from upstream: HTTPHeaders, dropRepresentation: Bool, backend: CompiledBackend) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.reserveCapacity(12)
        let nominated = upstream.contains(name: "connection") ? UpstreamHeaderPolicy.connectionTokens(upstream) : []
        var sawRequestID = false
        for (name, value) in upstream {
            switch UpstreamHeaderPolicy.disposition(name) {
            case .drop:
                continue
            case .representation:
                if dropRepresentation { continue }
                if !nominated.isEmpty, nominated.contains(name.lowercased()) { continue }
                headers.add(name: name, value: value)
            case .keep:
                if !nominated.isEmpty, nominated.contains(name.lowercased()) { continue }
                headers.add(name: name, value: value)
            case .requestID:
                if sawRequestID { continue }
                sawRequestID = true
                headers.add(name: "x-upstream-request-id", value: value)
            }
        }
        headers.add(name: "x-request-id", value: request.requestID)
        headers.add(name: "x-tollgate-backend", value: backend.id)
        headers.add(name: "x-tollgate-attempts", value: String(machine.attempts))
        if let admission = request.admission {
            for (name, value) in admission.headers { headers.add(name: name, value: value) }
        }
        for (name, value) in request.extraResponseHeaders { headers.add(name: name, value: value) }
        if !sink.clientKeepAlive {
            headers.add(name: "connection", value: "close")
        }
        return headers
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        guard case .streaming = state else { return }
        if collected != nil {
            var piece = buffer
            collected!.writeBuffer(&piece)
            if collected!.readableBytes > config.limits.maxResponseCollectBytes, case .streaming(let ref, let conn) = state {
                if translator?.relaysWhenTooLarge == true, let head = collectedHead {
                    // The client's own format: relay it whole, only without usage headers.
                    relayUntranslated(head: head, backend: route.backend(ref))
                    return
                }
                // Nothing reached the client yet, but this backend did answer: no fallback.
                conn.close()
                resetTranslation()
                state = .finished
                deadline = nil
                let backend = route.backend(ref)
                settleQuota(.unknown)
                worker.logger.warning("upstream response too large to translate", metadata: [
                    "request_id": "\(request.requestID)", "backend": "\(backend.id)", "limit": "\(config.limits.maxResponseCollectBytes)",
                ])
                sink.sendError(GatewayError(status: 502, type: "server_error", code: "upstream_response_too_large",
                                            message: "The upstream response (\(backend.id)) exceeds \(config.limits.maxResponseCollectBytes) bytes, the most the gateway collects to translate or account a non-streamed response (limits.max_response_collect_bytes)."),
                               attempts: machine.attempts)
            }
            return
        }
        if let translator {
            let out = translator.relayChunk(buffer)
            if out.readableBytes > 0 { sink.sendBody(out) }
            if let failure = adapterTranslator?.streamFailure ?? translator.streamFailure, case .streaming(let ref, let conn) = state {
                endBrokenStream(failure, conn: conn, backend: route.backend(ref))
            }
            return
        }
        sink.sendBody(buffer)
    }

    /// The translator gave up on the upstream's stream (a frame or line over its cap, corrupt
    /// framing) and its last output ended with the front's error event: stop reading, close
    /// the upstream and the response. The usage is unknown, so the estimate is charged.
    private func endBrokenStream(_ reason: String, conn: UpstreamConnection, backend: CompiledBackend) {
        conn.close()
        state = .finished
        deadline = nil
        settleQuota(servedOutcome(backend))
        worker.stats?.add(.upstreamFailures)
        worker.logger.warning("upstream stream unreadable; response ended", metadata: [
            "request_id": "\(request.requestID)", "backend": "\(backend.id)", "reason": "\(reason)",
        ])
        sink.flushClient()
        sink.exchangeFinished(status: servedStatus, backend: backend.id, attempts: machine.attempts, ending: .completeAndClose)
    }

    func upstreamEnd() {
        guard case .streaming(let ref, let conn) = state else { return }
        state = .finished
        deadline = nil
        conn.reusable = true
        worker.pool.release(conn)
        if let translator {
            if let body = collected {
                let upstreamHead = collectedHead ?? HTTPResponseHead(version: .http1_1, status: .ok)
                let (status, bytes) = translator.translateWhole(status: Int(upstreamHead.status.code), body: Array(body.readableBytesView))
                servedStatus = status
                sendTranslatedHead(upstreamHead, status: status, contentLength: bytes.count, usage: translator.usage, backend: route.backend(ref))
                sink.sendBody(ByteBuffer(bytes: bytes))
            } else {
                let tail = translator.finishStream()
                if !tail.isEmpty { sink.sendBody(ByteBuffer(bytes: tail)) }
            }
        }
        settleQuota(servedOutcome(route.backend(ref)))
        sink.flushClient()
        sink.exchangeFinished(status: servedStatus, backend: route.backend(ref).id, attempts: machine.attempts, ending: .complete)
    }

    func upstreamReadComplete() {
        switch state {
        case .waitingHead(_, let conn):
            conn.read()
        case .streaming(_, let conn):
            sink.flushClient()
            deadline = .now() + .milliseconds(Int64(config.limits.upstreamIdleTimeoutMs))
            if sink.clientIsWritable {
                conn.read()
            } else {
                readPaused = true
            }
        default:
            break
        }
    }

    func upstreamFailed(_ error: any Error) {
        switch state {
        case .waitingHead(let ref, let conn):
            conn.close()
            let backend = route.backend(ref)
            if staleCandidate && !staleRetryUsed {
                // A pooled connection the server had already closed: not the backend's fault.
                staleRetryUsed = true
                state = .idle
                attemptWithFreshConnection(ref)
                return
            }
            attemptFailed(.connectionReset, backend: backend)
        case .streaming(let ref, let conn):
            conn.close()
            if collected != nil {
                // Collecting a body to translate: nothing reached the client, so fall back.
                resetTranslation()
                attemptFailed(.connectionReset, backend: route.backend(ref))
                return
            }
            abortMidResponse(reason: "upstream connection failed mid-response: \(Self.describe(error))", backend: route.backend(ref))
        default:
            break
        }
    }

    private func resetTranslation() {
        translator = nil
        collected = nil
        collectedHead = nil
    }

    /// The head of a response collected whole (JSON), sent once its body is known, with the
    /// tokens and cost it reported.
    private func sendTranslatedHead(_ upstream: HTTPResponseHead, status: Int, contentLength: Int, usage: Usage?, backend: CompiledBackend) {
        var headers = clientHeaders(from: upstream.headers, dropRepresentation: true, backend: backend)
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(contentLength))
        if let usage {
            headers.add(name: "x-tollgate-input-tokens", value: String(usage.promptTokens))
            headers.add(name: "x-tollgate-output-tokens", value: String(usage.completionTokens))
            if usage.cachedTokens > 0 { headers.add(name: "x-tollgate-cached-tokens", value: String(usage.cachedTokens)) }
            if let cost = usage.cost(backend.price) { headers.add(name: "x-tollgate-cost-usd", value: Usage.format(cost)) }
        }
        sink.sendHead(HTTPResponseHead(version: request.clientHead.version, status: HTTPResponseStatus(statusCode: status), headers: headers))
    }

    private func attemptWithFreshConnection(_ ref: FallbackPlan.BackendRef) {
        attempt(ref, forceNewConnection: true)
    }

    // MARK: - Client events

    func clientBecameWritable() {
        guard readPaused, case .streaming(_, let conn) = state else { return }
        readPaused = false
        conn.read()
    }

    /// The client went away: release everything, never pool a half-read connection.
    func clientClosed() {
        switch state {
        case .waitingHead(let ref, let conn), .streaming(let ref, let conn):
            conn.close()
            // The upstream may have generated (and billed) part of it: keep what is known.
            settleQuota(servedOutcome(route.backend(ref)))
        case .idle, .connecting:
            settleQuota(.notServed)
        case .finished:
            break
        }
        attemptToken += 1
        state = .finished
        deadline = nil
        // Give up the place in the pool's queue, so a released connection is not handed to
        // this exchange only to be closed. After the token moved on: the lease's failure
        // completes synchronously and must find the exchange finished.
        if let waiter = pendingLease {
            pendingLease = nil
            worker.pool.cancel(waiter: waiter)
        }
    }

    func checkDeadline(now: NIODeadline) {
        guard let deadline, now >= deadline else { return }
        switch state {
        case .waitingHead(let ref, let conn):
            conn.close()
            attemptFailed(.timeout(.firstByte), backend: route.backend(ref))
        case .streaming(let ref, let conn):
            conn.close()
            if collected != nil {
                resetTranslation()
                attemptFailed(.timeout(.firstByte), backend: route.backend(ref))
                return
            }
            abortMidResponse(reason: "upstream sent nothing for \(config.limits.upstreamIdleTimeoutMs) ms mid-response",
                             backend: route.backend(ref))
        default:
            self.deadline = nil
        }
    }

    /// Bytes already reached the client, so there is no falling back: an event stream ends
    /// well-formed with an error event the SDKs raise on (and no `[DONE]`); any other body is
    /// cut with the connection, so the client sees a truncated body, never a silently short one.
    private func abortMidResponse(reason: String, backend served: CompiledBackend) {
        let backend = served.id
        state = .finished
        deadline = nil
        settleQuota(servedOutcome(served))
        worker.stats?.add(.upstreamFailures)
        worker.logger.warning("response aborted", metadata: [
            "request_id": "\(request.requestID)", "backend": "\(backend)", "reason": "\(reason)",
        ])
        if isEventStream {
            let error = GatewayError(status: 502, type: "server_error", code: "upstream_stream_interrupted",
                                     message: "The upstream stream was interrupted: \(reason). The response is incomplete.")
            var buffer = ByteBuffer()
            buffer.writeString(request.endpoint.front == .anthropic ? "event: error\ndata: " : "data: ")
            buffer.writeString(error.body(for: request.endpoint.front))
            buffer.writeString("\n\n")
            sink.sendBody(buffer)
            sink.exchangeFinished(status: servedStatus, backend: backend, attempts: machine.attempts, ending: .completeAndClose)
            return
        }
        sink.exchangeFinished(status: servedStatus, backend: backend, attempts: machine.attempts, ending: .abort)
    }

    // MARK: - Helpers

    static let forwardedClientHeaders = ["accept", "user-agent", "openai-beta"]

    /// The most of a non-streamed upstream body the gateway holds to translate or account it.


    /// The longest retry-after the gateway takes from an upstream (a day): the cooldown and
    /// the wait are capped lower still, this only keeps the arithmetic finite.
    static let maxRetryAfterMs = 86_400_000

    /// `retry-after` in seconds or as an HTTP date is not worth parsing dates for; also
    /// understands OpenAI's `retry-after-ms`.
    static func retryAfterMs(_ headers: HTTPHeaders) -> Int? {
        parseRetryAfter(headers).ms
    }

    /// The upstream's retry-after in milliseconds, pinned to `0...maxRetryAfterMs`, and a note
    /// when the value had to be pinned or was ignored (negative, NaN), for the log.
    static func parseRetryAfter(_ headers: HTTPHeaders) -> (ms: Int?, note: String?) {
        for (name, scale) in [("retry-after-ms", 1.0), ("retry-after", 1000.0)] {
            guard let raw = headers.first(name: name) else { continue }
            guard let value = Double(raw.trimmingSpaces) else { continue }
            let shown = String(raw.prefix(40))
            guard !value.isNaN, value >= 0 else { return (nil, "\(name): \(shown) ignored") }
            let ms = value * scale
            if ms > Double(maxRetryAfterMs) { return (maxRetryAfterMs, "\(name): \(shown) clamped to \(maxRetryAfterMs) ms") }
            return (Int(ms), nil)
        }
        return (nil, nil)
    }

    static func describe(_ error: any Error) -> String {
        if let io = error as? IOError { return io.description }
        if let ch = error as? ChannelError {
            switch ch {
            case .connectTimeout(let t): return "connect timeout after \(t.nanoseconds / 1_000_000) ms"
            case .eof: return "connection closed by upstream"
            default: return "\(ch)"
            }
        }
        return "\(error)"
    }
}

extension String {
    var trimmingSpaces: Substring {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return s
    }
}
