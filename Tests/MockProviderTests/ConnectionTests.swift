import Foundation
import NIOCore
import Testing
@testable import MockProvider

/// HTTP/1.1 behaviour: keep-alive, pipelining, close.
@Suite struct ConnectionTests {
    @Test func severalRequestsOnOneConnection() throws {
        try withMockServer { server throws in
            let c = try server.connect()
            #expect(try c.exchange("POST", "/v1/chat/completions", body: chatBody()).status == 200)
            #expect(try c.exchange("POST", "/v1/embeddings", body: #"{"model":"e","input":"x"}"#).status == 200)
            let stream = try c.exchange("POST", "/v1/chat/completions", body: chatBody(extra: #","stream":true"#))
            #expect(stream.sseData.last == "[DONE]")
            #expect(try c.exchange("GET", "/v1/models").status == 200)
            #expect(try c.exchange("POST", "/v1/chat/completions", body: "{bad").status == 400, "an error keeps the connection too")
            #expect(try c.exchange("POST", "/v1/chat/completions", body: chatBody(model: "m+latency=20")).status == 200)
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        try withMockServer { server throws in
            let c = try server.connect()
            try c.sendRaw(TestHTTPConnection.request("POST", "/v1/chat/completions", body: chatBody(model: "first+latency=50"))
                          + TestHTTPConnection.request("POST", "/v1/chat/completions", body: chatBody(model: "second")))
            #expect(try c.readResponse().json()["model"] as? String == "first")
            #expect(try c.readResponse().json()["model"] as? String == "second")
        }
    }

    @Test func expectContinueIsAnsweredBeforeTheBody() throws {
        try withMockServer { server throws in
            let c = try server.connect()
            let body = chatBody()
            try c.sendRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          + "Expect: 100-continue\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
            #expect(try c.readHead().status == 100)
            try c.sendRaw(body)
            #expect(try c.readResponse().status == 200)
        }
    }

    @Test func connectionCloseIsHonoured() throws {
        try withMockServer { server throws in
            let c = try server.connect()
            let r = try c.exchange("POST", "/v1/chat/completions", body: chatBody(), headers: [("Connection", "close")])
            #expect(r.status == 200 && r.header("connection") == "close")
            #expect(c.isClosedByPeer())
        }
    }

    @Test func http10StreamIsDelimitedByTheClose() throws {
        try withMockServer { server throws in
            let c = try server.connect()
            try c.sendRaw(TestHTTPConnection.request("POST", "/v1/chat/completions", body: chatBody(extra: #","stream":true"#), version: "HTTP/1.0"))
            let r = try c.readResponse()
            #expect(r.status == 200 && r.header("transfer-encoding") == nil)
            #expect(r.sseData.last == "[DONE]")
        }
    }
}

/// `GET`/`DELETE /mock/requests`: what live tests use to see what a gateway forwarded.
@Suite struct RequestLogTests {
    @Test func recordsRequestsAndClears() throws {
        try withMockServer { server throws in
            let body = chatBody(model: "recorded+echo")
            _ = try server.chat(body, headers: [("Authorization", "Bearer sk-upstream")])
            _ = try server.exchange("GET", "/healthz")
            let log = try server.exchange("GET", "/mock/requests")
            #expect(log.status == 200)
            let entries = try #require(try JSONSerialization.jsonObject(with: Data(log.body)) as? [[String: Any]])
            #expect(entries.count == 1, "health checks and the log itself are not recorded")
            let e = try #require(entries.first)
            #expect(e["method"] as? String == "POST")
            #expect(e["path"] as? String == "/v1/chat/completions")
            #expect(e["body"] as? String == body)
            #expect(e["model"] as? String == "recorded+echo", "the model as sent, controls included")
            let headers = (e["headers"] as? [[String]] ?? []).map { ($0[0].lowercased(), $0[1]) }
            #expect(headers.contains { $0 == ("authorization", "Bearer sk-upstream") })

            #expect(try server.exchange("DELETE", "/mock/requests").status == 200)
            #expect(try server.exchange("GET", "/mock/requests").text == "[]")
        }
    }

    @Test func keepsOnlyTheLast200() {
        let log = RequestLog()
        for i in 0..<(RequestLog.capacity + 5) {
            log.append(.init(method: .POST, uri: "/\(i)", headers: [:], body: ByteBuffer(), model: nil))
        }
        let uris = log.entries.map(\.uri)
        #expect(uris.count == RequestLog.capacity)
        #expect(uris.first == "/5" && uris.last == "/\(RequestLog.capacity + 4)")
    }
}
