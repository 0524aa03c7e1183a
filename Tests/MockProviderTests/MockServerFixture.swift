import Foundation
import NIOPosix
@testable import MockProvider

/// A mock provider on an ephemeral port of 127.0.0.1 for one test, on the shared event loop
/// group; closed when the test's closure returns.
func withMockServer<T>(_ body: (MockProviderServer) throws -> T) throws -> T {
    let server = try MockProviderServer.start(host: "127.0.0.1", port: 0, group: .singleton)
    defer { try? server.close() }
    return try body(server)
}

extension MockProviderServer {
    func connect(timeout: Double = 5) throws -> TestHTTPConnection {
        try TestHTTPConnection(port: localPort, timeout: timeout)
    }

    /// One request on a fresh connection.
    func exchange(_ method: String, _ path: String, body: String? = nil, headers: [(String, String)] = []) throws -> TestResponse {
        try connect().exchange(method, path, body: body, headers: headers)
    }

    func chat(_ body: String, headers: [(String, String)] = []) throws -> TestResponse {
        try exchange("POST", "/v1/chat/completions", body: body, headers: headers)
    }
}

/// A chat completion request body.
func chatBody(model: String = "gpt-4o-mini", content: String = "hello mock", extra: String = "") -> String {
    "{\"model\":\"\(model)\",\"messages\":[{\"role\":\"user\",\"content\":\"\(content)\"}]\(extra)}"
}

/// The chunks of an SSE body, parsed (the `[DONE]` marker excluded).
func chunks(_ response: TestResponse) throws -> [[String: Any]] {
    try response.sseData.filter { $0 != "[DONE]" }.map {
        try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
    }
}

func firstChoice(_ object: [String: Any]) -> [String: Any]? {
    (object["choices"] as? [[String: Any]])?.first
}
