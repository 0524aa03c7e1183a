import Foundation
import Testing
@testable import MockProvider

/// Every fault kind, observed from a real socket.
@Suite struct FaultInjectionTests {
    @Test func rateLimitIs429WithRetryAfterAndRateLimitHeaders() throws {
        try withMockServer { server throws in
            let r = try server.chat(chatBody(model: "m+fault=429+retry_after=3"))
            #expect(r.status == 429)
            #expect(r.header("retry-after") == "3")
            #expect(r.header("x-ratelimit-remaining-requests") == "0")
            #expect(r.header("x-ratelimit-reset-requests") == "3s")
            let error = try #require(try r.json()["error"] as? [String: Any])
            #expect(error["code"] as? String == "rate_limit_exceeded" && error["type"] as? String == "requests" && error["param"] is NSNull)
            #expect(try server.chat(chatBody(), headers: [("x-mock-fault", "429")]).header("retry-after") == "1", "1 s by default")
        }
    }

    @Test func serverErrorsAreOpenAIShaped() throws {
        try withMockServer { server throws in
            for (fault, status) in [("500", 500), ("502", 502), ("503", 503)] {
                let r = try server.chat(chatBody(model: "m+fault=\(fault)"))
                #expect(r.status == status)
                let error = try #require(try r.json()["error"] as? [String: Any])
                #expect(error["type"] as? String == "server_error" && error["message"] is String && error["code"] is NSNull)
            }
            #expect(try server.chat(chatBody(model: "m+fault=503")).header("retry-after") == nil)
            #expect(try server.chat(chatBody(model: "m+fault=503+retry_after=2")).header("retry-after") == "2")
            #expect(try server.exchange("POST", "/v1/embeddings", body: #"{"model":"e+fault=500","input":"x"}"#).status == 500)
        }
    }

    @Test func resetIsAConnectionResetAfterTheRequest() throws {
        try withMockServer { server throws in
            let c = try server.connect()
            #expect(throws: TestConnectionError.reset) { try c.exchange("POST", "/v1/chat/completions", body: chatBody(model: "m+fault=reset")) }
            // The request was read before the reset.
            let log = try server.exchange("GET", "/mock/requests")
            #expect(log.text.contains("m+fault=reset"))
        }
    }

    @Test func hangNeverAnswersAndKeepsTheConnectionOpen() throws {
        try withMockServer { server throws in
            let c = try server.connect(timeout: 0.3)
            let start = Date()
            #expect(throws: TestConnectionError.timeout) { try c.exchange("POST", "/v1/chat/completions", body: chatBody(model: "m+fault=hang")) }
            #expect(Date().timeIntervalSince(start) >= 0.29)
            // Still open: a read times out again rather than seeing a close.
            #expect(!c.isClosedByPeer())
        }
    }

    @Test func midstreamSendsSomeChunksThenResets() throws {
        try withMockServer { server throws in
            for model in ["m+fault=midstream", "m+fault=midstream+tps=200"] {
                let c = try server.connect()
                try c.sendRaw(TestHTTPConnection.request("POST", "/v1/chat/completions", body: chatBody(model: model, extra: #","stream":true"#)))
                let head = try c.readHead()
                #expect(head.status == 200)
                var received: [UInt8] = []
                #expect(throws: TestConnectionError.reset) { _ = try c.readBody(of: head) { received += $0 } }
                let text = String(decoding: received, as: UTF8.self)
                #expect(text.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: {") }.count == MockReply.midstreamEventCount, "\(model): \(text)")
                #expect(!text.contains("[DONE]"))
            }
        }
    }

    @Test func midstreamCutsAPlainResponseShort() throws {
        try withMockServer { server throws in
            let c = try server.connect()
            try c.sendRaw(TestHTTPConnection.request("POST", "/v1/chat/completions", body: chatBody(model: "m+fault=midstream")))
            let head = try c.readHead()
            #expect(head.status == 200 && Int(head.header("content-length") ?? "") ?? 0 > 0)
            #expect(throws: TestConnectionError.reset) { _ = try c.readBody(of: head) { _ in } }
        }
    }

    @Test func latencyDelaysTheHead() throws {
        try withMockServer { server throws in
            var start = Date()
            #expect(try server.chat(chatBody(model: "m+latency=200")).status == 200)
            #expect(Date().timeIntervalSince(start) >= 0.2)
            start = Date()
            #expect(try server.chat(chatBody(), headers: [("x-mock-latency-ms", "150")]).status == 200)
            #expect(Date().timeIntervalSince(start) >= 0.15)
            start = Date()
            #expect(try server.chat(chatBody(model: "m+latency=100+fault=503")).status == 503, "latency applies to faults too")
            #expect(Date().timeIntervalSince(start) >= 0.1)
        }
    }

    @Test func tokensPerSecondPacesTheStream() throws {
        try withMockServer { server throws in
            let c = try server.connect()
            let start = Date()
            try c.sendRaw(TestHTTPConnection.request("POST", "/v1/chat/completions",
                                                     body: chatBody(model: "m+tps=50+tokens=4", extra: #","stream":true"#)))
            let head = try c.readHead()
            var arrivals: [TimeInterval] = []
            let body = try c.readBody(of: head) { _ in arrivals.append(Date().timeIntervalSince(start)) }
            // role + 4 tokens + finish + [DONE] = 7 events, 20 ms apart.
            #expect(String(decoding: body, as: UTF8.self).components(separatedBy: "\n\n").count - 1 == 7)
            #expect(arrivals.count == 7, "one chunk per event")
            #expect((arrivals.last ?? 0) >= 0.12 - 0.005)
        }
    }

    @Test func unpacedStreamArrivesInOneChunk() throws {
        try withMockServer { server throws in
            let c = try server.connect()
            try c.sendRaw(TestHTTPConnection.request("POST", "/v1/chat/completions", body: chatBody(extra: #","stream":true"#)))
            let head = try c.readHead()
            var pieces = 0
            _ = try c.readBody(of: head) { _ in pieces += 1 }
            #expect(pieces == 1)
        }
    }
}
