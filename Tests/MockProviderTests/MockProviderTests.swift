import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing
import TollgateTesting
@testable import MockProvider

@Suite struct MockControlsTests {
    @Test func suffixesAndHeadersControlTheMock() {
        let (c, base) = MockControls.parse(model: "mock-small+fault=503+retry_after=2+tps=50+tokens=7+latency=30+echo", headers: [:])
        #expect(base == "mock-small")
        #expect(c == MockControls(latencyMs: 30, tokensPerSecond: 50, outputTokens: 7, fault: .unavailable, retryAfterSeconds: 2, echo: true, tool: false))
        let (h, plain) = MockControls.parse(model: "gpt-4o-mini", headers: HTTPHeaders([("x-mock-fault", "reset"), ("X-Mock-Output-Tokens", "3")]))
        #expect(plain == "gpt-4o-mini")
        #expect(h.fault == .reset && h.outputTokens == 3)
    }
}

/// The mock over a real socket, in process.
@Suite struct MockProviderServerTests {
    final class Server {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server: MockProviderServer
        init() throws { server = try MockProviderServer.start(host: "127.0.0.1", port: 0, group: group) }
        var client: HTTPTestClient { HTTPTestClient(port: server.localPort, timeout: 5) }
        deinit {
            try? server.close()
            try? group.syncShutdownGracefully()
        }
    }

    private func chat(_ model: String = "gpt-4o-mini", extra: String = "") -> String {
        "{\"model\":\"\(model)\",\"messages\":[{\"role\":\"user\",\"content\":\"hello mock\"}]\(extra)}"
    }

    @Test func completionHasOpenAIsShapeAndUsage() throws {
        let s = try Server()
        let r = try s.client.postJSON("/v1/chat/completions", chat())
        #expect(r.status == 200)
        let j = try r.json()
        #expect(j["object"] as? String == "chat.completion")
        let choice = (j["choices"] as? [[String: Any]])?.first
        let message = choice?["message"] as? [String: Any]
        #expect(message?["role"] as? String == "assistant")
        #expect(message?.keys.contains("refusal") == true)
        #expect(choice?.keys.contains("logprobs") == true)
        #expect(choice?["finish_reason"] as? String == "stop")
        let usage = j["usage"] as? [String: Any]
        #expect(usage?["completion_tokens"] as? Int == 16)
        #expect((usage?["total_tokens"] as? Int) == (usage?["prompt_tokens"] as? Int ?? 0) + 16)
    }

    @Test func streamDeltasEqualTheNonStreamedContent() throws {
        let s = try Server()
        let plain = try s.client.postJSON("/v1/chat/completions", chat(extra: ",\"max_tokens\":5"))
        let content = ((try plain.json()["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
        let stream = try s.client.startStreaming("POST", "/v1/chat/completions", headers: [("Content-Type", "application/json")],
                                                 body: chat(extra: ",\"max_tokens\":5,\"stream\":true,\"stream_options\":{\"include_usage\":true}"))
        let events = try stream.sseEvents()
        #expect(events.last == "[DONE]")
        let objects = try events.dropLast().map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let deltas = objects.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }
        #expect(deltas.joined() == content)
        let firstDelta = (objects.first?["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]
        #expect(firstDelta?["role"] as? String == "assistant")
        #expect(firstDelta?["content"] as? String == "")
        let finish = objects.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
        #expect(finish == ["length"])
        #expect((objects.last?["usage"] as? [String: Any])?["completion_tokens"] as? Int == 5)
        #expect((objects.last?["choices"] as? [Any])?.isEmpty == true)
    }

    @Test func faultsAreInjected() throws {
        let s = try Server()
        let limited = try s.client.postJSON("/v1/chat/completions", chat("m+fault=429+retry_after=3"))
        #expect(limited.status == 429)
        #expect(limited.header("retry-after") == "3")
        #expect((try limited.json()["error"] as? [String: Any])?["code"] as? String == "rate_limit_exceeded")
        #expect(try s.client.postJSON("/v1/chat/completions", chat("m+fault=500")).status == 500)
        #expect(try s.client.postJSON("/v1/chat/completions", chat("m+fault=503")).status == 503)
        #expect(throws: (any Error).self) { try s.client.postJSON("/v1/chat/completions", chat("m+fault=reset")) }
        let hung = HTTPTestClient(port: s.server.localPort, timeout: 0.3)
        #expect(throws: HTTPTestError.self) { try hung.postJSON("/v1/chat/completions", chat("m+fault=hang")) }
    }

    @Test func latencyIsHonoured() throws {
        let s = try Server()
        let start = Date()
        #expect(try s.client.postJSON("/v1/chat/completions", chat("m+latency=200")).status == 200)
        #expect(Date().timeIntervalSince(start) >= 0.2)
    }

    @Test func echoAndBadRequests() throws {
        let s = try Server()
        let r = try s.client.postJSON("/v1/chat/completions", chat("m+echo"))
        #expect(((try r.json()["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String == "hello mock")
        #expect(try s.client.postJSON("/v1/chat/completions", "{nope").status == 400)
        let missing = try s.client.postJSON("/v1/chat/completions", "{\"messages\":[]}")
        #expect(missing.status == 400)
        #expect((try missing.json()["error"] as? [String: Any])?["param"] as? String == "model")
    }

    @Test func embeddingsAreDeterministicUnitVectors() throws {
        let s = try Server()
        let r = try s.client.postJSON("/v1/embeddings", "{\"model\":\"e\",\"input\":[\"a\",\"a\",\"b\"],\"dimensions\":8}")
        let data = try r.json()["data"] as? [[String: Any]] ?? []
        let vectors = data.compactMap { $0["embedding"] as? [Double] }
        #expect(vectors.count == 3 && vectors[0].count == 8)
        #expect(vectors[0] == vectors[1] && vectors[0] != vectors[2])
        #expect(abs(vectors[0].reduce(0) { $0 + $1 * $1 } - 1) < 1e-3)
        let b64 = try s.client.postJSON("/v1/embeddings", "{\"model\":\"e\",\"input\":\"a\",\"dimensions\":8,\"encoding_format\":\"base64\"}")
        let encoded = ((try b64.json()["data"] as? [[String: Any]])?.first?["embedding"] as? String) ?? ""
        #expect(Data(base64Encoded: encoded)?.count == 32)
    }

    @Test func recordsRequestsForTests() throws {
        let s = try Server()
        _ = try s.client.postJSON("/v1/chat/completions", chat("recorded-model"))
        let log = try s.client.request("GET", "/mock/requests")
        #expect(log.bodyString.contains("recorded-model"))
        _ = try s.client.request("DELETE", "/mock/requests")
        #expect(try s.client.request("GET", "/mock/requests").bodyString == "[]")
    }
}
