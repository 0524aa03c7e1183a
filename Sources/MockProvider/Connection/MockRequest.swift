import NIOCore
import NIOHTTP1

/// One request as the mock received it, with its path normalised for routing: the query split
/// off and a leading `/v1` dropped, since OpenAI's and Anthropic's paths are accepted with and
/// without it (`/v1/chat/completions` and `/chat/completions` are the same endpoint).
struct MockRequest {
    var head: HTTPRequestHead
    var body: ByteBuffer
    /// The path to route on: no query, no `/v1` prefix.
    var path: Substring
    var query: Substring

    init(head: HTTPRequestHead, body: ByteBuffer) {
        self.head = head
        self.body = body
        let uri = Substring(head.uri)
        if let q = uri.firstIndex(of: "?") {
            path = uri[..<q]
            query = uri[uri.index(after: q)...]
        } else {
            path = uri
            query = ""
        }
        if path == "/v1" {
            path = "/"
        } else if path.hasPrefix("/v1/") {
            path = path.dropFirst(3)
        }
    }

    /// The value of query parameter `name` (not percent-decoded), if present.
    func queryParameter(_ name: String) -> Substring? {
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if kv[0] == name { return kv.count > 1 ? kv[1] : "" }
        }
        return nil
    }
}
