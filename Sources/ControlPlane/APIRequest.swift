import Foundation
import ControlPlaneStore

/// A request as the API logic sees it, independent of the HTTP server: what the handlers
/// need and nothing else, already size-checked.
struct APIRequest: Sendable {
    var method: String
    var authorization: String?
    var ifMatch: String?
    var ifNoneMatch: String?
    /// Lowercased names: the data plane's heartbeat headers.
    var headers: [String: String] = [:]
    var query: [String: String] = [:]
    var body: JSONValue?
    var sourceIP: String

    func bearer() -> String? {
        guard let value = authorization else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty || token.utf8.count > 512 ? nil : token
    }

    /// `If-Match: "3"` (or `W/"3"`) → 3; nil when absent. `*` matches any version.
    func expectedVersion() throws(APIError) -> Int64? {
        guard var value = ifMatch?.trimmingCharacters(in: .whitespaces), value != "*" else { return nil }
        if value.hasPrefix("W/") { value.removeFirst(2) }
        value = value.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        guard let v = Int64(value), v > 0 else { throw .badRequest("If-Match must be a version ETag such as \"3\"", field: "If-Match") }
        return v
    }

    func requireBody() throws(APIError) -> JSONValue {
        guard let body else { throw .badRequest("this request needs a JSON body") }
        return body
    }

    /// `limit` (1…500, default 50) and `after` (the `next` cursor of the previous page).
    func page() throws(APIError) -> (limit: Int, after: String?) {
        var limit = 50
        if let text = query["limit"] {
            guard let n = Int(text), (1...500).contains(n) else { throw .badRequest("limit must be between 1 and 500", field: "limit") }
            limit = n
        }
        return (limit, query["after"])
    }
}

/// A response as data; the server turns it into HTTP.
struct APIResponse: Sendable {
    var status: Int
    var headers: [(String, String)] = []
    var body: JSONValue?

    static func json(_ body: JSONValue, status: Int = 200, etag: String? = nil) -> APIResponse {
        APIResponse(status: status, headers: etag.map { [("ETag", $0)] } ?? [], body: body)
    }

    static func page(_ items: [JSONValue], next: String?) -> APIResponse {
        .json(.object(["items": .array(items), "next": next.map(JSONValue.string) ?? .null]))
    }
}

