import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import TollgateCore

/// One connection to the mock provider: collects a request, then answers it as OpenAI would,
/// bent by the request's `MockControls` (latency, token rate, size, faults).
final class MockHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let log: RequestLog
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    static let counter = ManagedAtomicCounter()

    init(log: RequestLog) {
        self.log = log
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.clear()
        case .body(var b):
            body.writeBuffer(&b)
        case .end:
            guard let head else { return }
            self.head = nil
            handle(context: context, head: head, body: body)
        }
    }

    private func handle(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer) {
        var path = head.uri
        var query = ""
        if let q = path.firstIndex(of: "?") {
            query = String(path[path.index(after: q)...])
            path = String(path[..<q])
        }
        if path.hasPrefix("/v1/") { path = String(path.dropFirst(3)) }
        // Azure OpenAI: /openai/deployments/{deployment}/{operation}?api-version=…
        if path.hasPrefix("/openai/deployments/") {
            let rest = path.dropFirst("/openai/deployments/".count)
            guard let slash = rest.firstIndex(of: "/"), query.split(separator: "&").contains(where: { $0.hasPrefix("api-version=") }) else {
                return respond(context: context, head: head, status: .notFound, json: "{\"error\":{\"code\":\"404\",\"message\":\"Resource not found\"}}")
            }
            path = String(rest[slash...])
        }
        let bodyBytes = Array(body.readableBytesView)
        if path != "/mock/requests" && path != "/healthz" {
            log.append(.init(method: head.method.rawValue, path: head.uri, headers: head.headers.map { ($0.name, $0.value) },
                             body: String(decoding: bodyBytes, as: UTF8.self)))
        }
        if head.method == .POST, path == "/token" {
            return oauthToken(context: context, head: head, body: bodyBytes)
        }
        // Vertex AI publisher models: Gemini's wire format behind a bearer token from /token.
        if head.method == .POST, path.hasPrefix("/projects/"), let models = path.range(of: "/publishers/google/models/") {
            guard head.headers.first(name: "authorization")?.hasPrefix("Bearer ya29.mock-") == true else {
                return respond(context: context, head: head, status: .unauthorized,
                               json: Self.geminiError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."))
            }
            return gemini(context: context, head: head, path: "/v1beta/models/" + path[models.upperBound...], body: bodyBytes)
        }
        if head.method == .POST, path.hasPrefix("/model/") {
            return bedrock(context: context, head: head, path: path, body: bodyBytes)
        }
        if head.method == .POST, path.hasPrefix("/v1beta/models/") {
            return gemini(context: context, head: head, path: path, body: bodyBytes)
        }
        switch (head.method, path) {
        case (.POST, "/chat/completions"):
            chat(context: context, head: head, body: bodyBytes)
        case (.POST, "/messages/count_tokens"):
            respond(context: context, head: head, status: .ok, json: "{\"input_tokens\":\(max(1, bodyBytes.count / 4))}")
        case (.POST, "/messages"):
            anthropicMessages(context: context, head: head, body: bodyBytes)
        case (.POST, "/embeddings"):
            embeddings(context: context, head: head, body: bodyBytes)
        case (.GET, "/models"):
            let created = 1_700_000_000
            let data = ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small", "mock-small"].map {
                "{\"id\":\"\($0)\",\"object\":\"model\",\"created\":\(created),\"owned_by\":\"tollgate-mock\"}"
            }
            respond(context: context, head: head, status: .ok, json: "{\"object\":\"list\",\"data\":[" + data.joined(separator: ",") + "]}")
        case (.GET, "/mock/requests"):
            respond(context: context, head: head, status: .ok, json: log.json)
        case (.DELETE, "/mock/requests"):
            log.clear()
            respond(context: context, head: head, status: .ok, json: "{\"cleared\":true}")
        case (.GET, "/healthz"):
            respond(context: context, head: head, status: .ok, json: "{\"status\":\"ok\"}")
        default:
            respond(context: context, head: head, status: .notFound,
                    json: MockResponses.error(message: "Invalid URL (\(head.method.rawValue) \(head.uri))", type: "invalid_request_error", code: nil))
        }
    }

    // MARK: - Chat completions

    private func chat(context: ChannelHandlerContext, head: HTTPRequestHead, body: [UInt8]) {
        let parsed: ChatParse = body.withUnsafeBytes { raw in
            let index: JSONObjectIndex
            do {
                index = try JSONScanner.scanObject(raw)
            } catch {
                return .bad("We could not parse the JSON body of your request: \(error).")
            }
            guard let model = index.string("model", in: raw) else {
                return .bad("you must provide a model parameter")
            }
            guard let messages = index.member("messages", in: raw), messages.kind == .array else {
                return .bad("Missing required parameter: 'messages'.")
            }
            var includeUsage = false
            if let opts = index.member("stream_options", in: raw), opts.kind == .object,
               let nested = try? JSONScanner.scanObject(raw, in: opts.value) {
                includeUsage = nested.bool("include_usage", in: raw) ?? false
            }
            let maxTokens = index.int("max_completion_tokens", in: raw) ?? index.int("max_tokens", in: raw)
            let messageCount = max(1, raw[messages.value].reduce(0) { $0 + ($1 == UInt8(ascii: "{") ? 1 : 0) })
            return .ok(ChatRequest(model: model, stream: index.bool("stream", in: raw) ?? false, includeUsage: includeUsage,
                                        maxTokens: maxTokens, promptTokens: messages.value.count / 4 + 3 * messageCount + 3))
        }
        let request: ChatRequest
        switch parsed {
        case .bad(let message):
            let param = message.contains("model") ? "model" : (message.contains("messages") ? "messages" : nil)
            return respond(context: context, head: head, status: .badRequest,
                           json: MockResponses.error(message: message, type: "invalid_request_error", code: nil, param: param))
        case .ok(let r):
            request = r
        }
        let (controls, model) = MockControls.parse(model: request.model, headers: head.headers)
        if injectFault(context: context, head: head, controls: controls, streamingAllowed: request.stream) { return }

        let echoText = controls.echo ? Self.lastUserText(body) ?? "" : nil
        var tokens = MockResponses.tokens(count: controls.outputTokens, echo: echoText)
        var finish = "stop"
        if let max = request.maxTokens, max >= 0, tokens.count > max {
            tokens = Array(tokens.prefix(max))
            finish = "length"
        }
        let id = "chatcmpl-mock\(Self.counter.next())"
        let created = Int(Date().timeIntervalSince1970)
        if controls.tool, let toolName = Self.firstToolName(body) {
            return toolCall(context: context, head: head, id: id, created: created, model: model, tool: toolName, request: request)
        }
        let respondNow = { [self] in
            if request.stream {
                self.stream(context: context, head: head, id: id, created: created, model: model, tokens: tokens,
                            finish: finish, request: request, controls: controls)
            } else {
                let json = MockResponses.completion(id: id, created: created, model: model, content: tokens.joined(),
                                                    finishReason: finish, prompt: request.promptTokens, completion: tokens.count)
                self.respond(context: context, head: head, status: .ok, json: json)
            }
        }
        if controls.latencyMs > 0 {
            let loopBound = NIOLoopBound(respondNow, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(Int64(controls.latencyMs))) { loopBound.value() }
        } else {
            respondNow()
        }
    }

    private func stream(context: ChannelHandlerContext, head: HTTPRequestHead, id: String, created: Int, model: String,
                        tokens: [String], finish: String, request: ChatRequest, controls: MockControls) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/event-stream; charset=utf-8")
        headers.add(name: "cache-control", value: "no-cache")
        headers.add(name: "x-request-id", value: "req_mock_\(id)")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
        var events: [String] = [MockResponses.chunk(id: id, created: created, model: model,
                                                    delta: "{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}",
                                                    finishReason: nil, includeUsage: request.includeUsage)]
        for t in tokens {
            events.append(MockResponses.chunk(id: id, created: created, model: model, delta: "{\"content\":" + JSONWriter.quoted(t) + "}",
                                              finishReason: nil, includeUsage: request.includeUsage))
        }
        events.append(MockResponses.chunk(id: id, created: created, model: model, delta: "{}", finishReason: finish, includeUsage: request.includeUsage))
        if request.includeUsage {
            events.append(MockResponses.chunk(id: id, created: created, model: model, delta: nil, finishReason: nil, includeUsage: true,
                                              usage: MockResponses.usage(prompt: request.promptTokens, completion: tokens.count)))
        }
        events.append("data: [DONE]\n\n")
        let midstream = controls.fault == .midstream
        if controls.tokensPerSecond <= 0 && !midstream {
            var buffer = context.channel.allocator.buffer(capacity: events.reduce(0) { $0 + $1.utf8.count })
            for e in events { buffer.writeString(e) }
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        let interval = TimeAmount.nanoseconds(controls.tokensPerSecond > 0 ? Int64(1_000_000_000 / controls.tokensPerSecond) : 10_000_000)
        let sender = StreamSender(context: context, handler: self, events: midstream ? Array(events.prefix(3)) : events,
                                  interval: interval, resetAtEnd: midstream)
        sender.sendNext()
    }

    /// Paces the events of one stream on the event loop (one scheduled task per event).
    final class StreamSender {
        let context: ChannelHandlerContext
        let handler: MockHTTPHandler
        var events: ArraySlice<String>
        let interval: TimeAmount
        let resetAtEnd: Bool

        init(context: ChannelHandlerContext, handler: MockHTTPHandler, events: [String], interval: TimeAmount, resetAtEnd: Bool) {
            self.context = context
            self.handler = handler
            self.events = events[...]
            self.interval = interval
            self.resetAtEnd = resetAtEnd
        }

        func sendNext() {
            guard context.channel.isActive else { return }
            guard let event = events.popFirst() else {
                if resetAtEnd {
                    MockHTTPHandler.reset(context.channel)
                } else {
                    context.writeAndFlush(handler.wrapOutboundOut(.end(nil)), promise: nil)
                }
                return
            }
            var buffer = context.channel.allocator.buffer(capacity: event.utf8.count)
            buffer.writeString(event)
            context.writeAndFlush(handler.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: interval) { bound.value.sendNext() }
        }
    }

    /// A call of `tool` with arguments `{"query":"mock"}`, plain or streamed.
    private func toolCall(context: ChannelHandlerContext, head: HTTPRequestHead, id: String, created: Int, model: String, tool: String, request: ChatRequest) {
        let args = #"{"query":"mock"}"#
        if !request.stream {
            let json = "{\"id\":\"\(id)\",\"object\":\"chat.completion\",\"created\":\(created),\"model\":" + JSONWriter.quoted(model)
                + ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_mock1\",\"type\":\"function\",\"function\":{\"name\":"
                + JSONWriter.quoted(tool) + ",\"arguments\":" + JSONWriter.quoted(args) + "}}],\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":\"tool_calls\"}],"
                + "\"usage\":" + MockResponses.usage(prompt: request.promptTokens, completion: 8) + ",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_tollgate_mock\"}"
            return respond(context: context, head: head, status: .ok, json: json)
        }
        var events = [
            MockResponses.chunk(id: id, created: created, model: model, delta: "{\"role\":\"assistant\",\"content\":null}", finishReason: nil, includeUsage: request.includeUsage),
            MockResponses.chunk(id: id, created: created, model: model,
                                delta: "{\"tool_calls\":[{\"index\":0,\"id\":\"call_mock1\",\"type\":\"function\",\"function\":{\"name\":" + JSONWriter.quoted(tool) + ",\"arguments\":\"\"}}]}",
                                finishReason: nil, includeUsage: request.includeUsage),
            MockResponses.chunk(id: id, created: created, model: model,
                                delta: "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":" + JSONWriter.quoted(args) + "}}]}",
                                finishReason: nil, includeUsage: request.includeUsage),
            MockResponses.chunk(id: id, created: created, model: model, delta: "{}", finishReason: "tool_calls", includeUsage: request.includeUsage),
        ]
        if request.includeUsage {
            events.append(MockResponses.chunk(id: id, created: created, model: model, delta: nil, finishReason: nil, includeUsage: true,
                                              usage: MockResponses.usage(prompt: request.promptTokens, completion: 8)))
        }
        events.append("data: [DONE]\n\n")
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/event-stream; charset=utf-8")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: events.joined())))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    static func firstToolName(_ body: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let tools = object["tools"] as? [[String: Any]] else { return nil }
        return (tools.first?["function"] as? [String: Any])?["name"] as? String
    }

    // MARK: - Embeddings

    private func embeddings(context: ChannelHandlerContext, head: HTTPRequestHead, body: [UInt8]) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            return respond(context: context, head: head, status: .badRequest,
                           json: MockResponses.error(message: "We could not parse the JSON body of your request.", type: "invalid_request_error", code: nil))
        }
        guard let rawModel = object["model"] as? String else {
            return respond(context: context, head: head, status: .badRequest,
                           json: MockResponses.error(message: "you must provide a model parameter", type: "invalid_request_error", code: nil, param: "model"))
        }
        let (controls, model) = MockControls.parse(model: rawModel, headers: head.headers)
        if injectFault(context: context, head: head, controls: controls, streamingAllowed: false) { return }
        let inputs: [String]
        switch object["input"] {
        case let s as String: inputs = [s]
        case let list as [String]: inputs = list
        case let tokens as [Int]: inputs = [tokens.map(String.init).joined(separator: " ")]
        case let lists as [[Int]]: inputs = lists.map { $0.map(String.init).joined(separator: " ") }
        default:
            return respond(context: context, head: head, status: .badRequest,
                           json: MockResponses.error(message: "'input' must be a string, an array of strings, or token arrays.", type: "invalid_request_error", code: nil, param: "input"))
        }
        let dims = min(4096, max(1, object["dimensions"] as? Int ?? 256))
        let base64 = (object["encoding_format"] as? String) == "base64"
        var data: [String] = []
        var promptTokens = 0
        for (i, text) in inputs.enumerated() {
            promptTokens += max(1, text.utf8.count / 4)
            let vector = Self.embedding(of: text, dims: dims)
            let encoded: String
            if base64 {
                var bytes: [UInt8] = []
                bytes.reserveCapacity(dims * 4)
                for v in vector { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
                encoded = "\"" + Data(bytes).base64EncodedString() + "\""
            } else {
                encoded = "[" + vector.map { String($0) }.joined(separator: ",") + "]"
            }
            data.append("{\"object\":\"embedding\",\"index\":\(i),\"embedding\":\(encoded)}")
        }
        let json = "{\"object\":\"list\",\"data\":[" + data.joined(separator: ",") + "],\"model\":" + JSONWriter.quoted(model)
            + ",\"usage\":{\"prompt_tokens\":\(promptTokens),\"total_tokens\":\(promptTokens)}}"
        respond(context: context, head: head, status: .ok, json: json)
    }

    /// A deterministic unit vector seeded by the text (FNV-1a + SplitMix).
    static func embedding(of text: String, dims: Int) -> [Float] {
        var seed: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 { seed = (seed ^ UInt64(b)) &* 0x100_0000_01b3 }
        var out = [Float](repeating: 0, count: dims)
        var norm: Float = 0
        for i in 0..<dims {
            seed &+= 0x9E37_79B9_7F4A_7C15
            var z = seed
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            let v = Float(Int64(bitPattern: z) % 10_000) / 10_000
            out[i] = v
            norm += v * v
        }
        let scale = norm > 0 ? 1 / norm.squareRoot() : 0
        return out.map { $0 * scale }
    }

    // MARK: - Faults and responses

    /// Applies an injected fault; returns true when the request is handled by it.
    func injectFault(context: ChannelHandlerContext, head: HTTPRequestHead, controls: MockControls, streamingAllowed: Bool) -> Bool {
        guard let fault = controls.fault else { return false }
        switch fault {
        case .rateLimited:
            let headers: [(String, String)] = [("retry-after", String(controls.retryAfterSeconds)),
                                               ("x-ratelimit-limit-requests", "60"), ("x-ratelimit-remaining-requests", "0"),
                                               ("x-ratelimit-reset-requests", "\(controls.retryAfterSeconds)s")]
            respond(context: context, head: head, status: .tooManyRequests,
                    json: MockResponses.error(message: "Rate limit reached for requests (mock). Please try again in \(controls.retryAfterSeconds)s.",
                                              type: "requests", code: "rate_limit_exceeded"), extra: headers)
        case .internalError:
            respond(context: context, head: head, status: .internalServerError,
                    json: MockResponses.error(message: "The server had an error while processing your request (mock).", type: "server_error", code: nil))
        case .badGateway:
            respond(context: context, head: head, status: .badGateway,
                    json: MockResponses.error(message: "Bad gateway (mock).", type: "server_error", code: nil))
        case .unavailable:
            respond(context: context, head: head, status: .serviceUnavailable,
                    json: MockResponses.error(message: "The engine is currently overloaded, please try again later (mock).", type: "server_error", code: nil),
                    extra: [("retry-after", String(controls.retryAfterSeconds))])
        case .reset:
            Self.reset(context.channel)
        case .hang:
            break
        case .midstream:
            return !streamingAllowed ? { Self.reset(context.channel); return true }() : false
        }
        return true
    }

    /// Closes with SO_LINGER 0 so the peer sees ECONNRESET, not a clean close.
    static func reset(_ channel: Channel) {
        guard let provider = channel as? SocketOptionProvider else {
            channel.close(promise: nil)
            return
        }
        provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
    }

    func respond(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, json: String, extra: [(String, String)] = []) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(json.utf8.count))
        headers.add(name: "x-request-id", value: "req_mock_\(Self.counter.next())")
        for (n, v) in extra { headers.add(name: n, value: v) }
        if !head.isKeepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: json.utf8.count)
        buffer.writeString(json)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let keepAlive = head.isKeepAlive
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }

    /// The text of the last user message (string content or the text parts of an array).
    static func lastUserText(_ body: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let messages = object["messages"] as? [[String: Any]] else { return nil }
        guard let last = messages.last(where: { ($0["role"] as? String) == "user" }) else { return nil }
        if let s = last["content"] as? String { return s }
        if let parts = last["content"] as? [[String: Any]] {
            return parts.compactMap { $0["type"] as? String == "text" ? $0["text"] as? String : nil }.joined(separator: " ")
        }
        return nil
    }

    enum ChatParse {
        case ok(ChatRequest)
        case bad(String)
    }

    struct ChatRequest {
        var model: String
        var stream: Bool
        var includeUsage: Bool
        var maxTokens: Int?
        var promptTokens: Int
    }
}

/// A process-wide counter for unique ids.
final class ManagedAtomicCounter: Sendable {
    private let value = Synchronization.Atomic<UInt64>(0)
    func next() -> UInt64 { value.add(1, ordering: .relaxed).newValue }
}
