import NIOCore
import NIOHTTP1
import TollgateCore

/// Azure AI Content Safety (`POST /contentsafety/text:analyze` and `text:shieldPrompt`,
/// `?api-version=` required, `Ocp-Apim-Subscription-Key` required), driven by markers in the
/// text so tests need no Azure account:
///
/// | marker | effect |
/// |---|---|
/// | `cs-hate-N`, `cs-self_harm-N`, `cs-sexual-N`, `cs-violence-N` | that category at severity N |
/// | `cs-block` | a hit on the first requested blocklist |
/// | `cs-attack` | `attackDetected` for the prompt (or the document containing it) |
/// | `cs-fault-500` | HTTP 500 |
/// | `cs-fault-hang` | never answers |
enum ContentSafetyEndpoint {
    static let categories = [("hate", "Hate"), ("self_harm", "SelfHarm"), ("sexual", "Sexual"), ("violence", "Violence")]

    static func reply(to request: MockRequest, operation: Substring) -> MockReply {
        guard request.head.method == .POST else { return error(.methodNotAllowed, "Method not allowed") }
        guard request.queryParameter("api-version")?.isEmpty == false else { return error(.notFound, "Resource not found (api-version missing)") }
        guard request.head.headers.first(name: "ocp-apim-subscription-key")?.isEmpty == false else {
            return error(.unauthorized, "Access denied due to invalid subscription key or wrong API endpoint.")
        }
        return request.body.withUnsafeReadableBytes { raw -> MockReply in
            let view = JSONView(bytes: raw)
            guard let root = try? view.root() else { return error(.badRequest, "The request body is not valid JSON.") }
            let texts: [String]
            switch operation {
            case "text:analyze":
                guard let text = view.string(view.member("text", of: root)) else { return error(.badRequest, "text is required") }
                texts = [text]
            case "text:shieldPrompt":
                texts = [view.string(view.member("userPrompt", of: root)) ?? ""]
                    + view.elements(view.member("documents", of: root)).compactMap { view.string($0) }
            default:
                return error(.notFound, "Resource not found")
            }
            if texts.contains(where: { $0.contains("cs-fault-hang") }) { return .hang }
            if texts.contains(where: { $0.contains("cs-fault-500") }) { return error(.internalServerError, "mock fault") }
            var out = ""
            if operation == "text:analyze" {
                let requested = view.elements(view.member("categories", of: root)).compactMap { view.string($0) }
                let blocklists = view.elements(view.member("blocklistNames", of: root)).compactMap { view.string($0) }
                var hits = ""
                if let list = blocklists.first, texts[0].contains("cs-block") {
                    hits = "{\"blocklistName\":" + JSONWriter.quoted(list) + ",\"blocklistItemId\":\"mock-1\",\"blocklistItemText\":\"cs-block\"}"
                }
                let analysis = categories.filter { requested.isEmpty || requested.contains($0.1) }.map { (config, api) in
                    "{\"category\":\"\(api)\",\"severity\":\(severity(of: config, in: texts[0]))}"
                }
                out = "{\"blocklistsMatch\":[\(hits)],\"categoriesAnalysis\":[\(analysis.joined(separator: ","))]}"
            } else {
                let documents = texts.dropFirst().map { "{\"attackDetected\":\($0.contains("cs-attack"))}" }
                out = "{\"userPromptAnalysis\":{\"attackDetected\":\(texts[0].contains("cs-attack"))},\"documentsAnalysis\":[\(documents.joined(separator: ","))]}"
            }
            var buffer = ByteBuffer()
            buffer.writeString(out)
            return .json(.ok, buffer)
        }
    }

    /// The N of the first `cs-<category>-N` marker, else 0.
    static func severity(of category: String, in text: String) -> Int {
        let marker = Array("cs-\(category)-".utf8)
        let bytes = Array(text.utf8)
        guard bytes.count > marker.count else { return 0 }
        for i in 0..<(bytes.count - marker.count) where bytes[i..<(i + marker.count)].elementsEqual(marker) {
            let d = bytes[i + marker.count]
            if d >= 0x30 && d <= 0x39 { return Int(d - 0x30) }
        }
        return 0
    }

    static func error(_ status: HTTPResponseStatus, _ message: String) -> MockReply {
        var buffer = ByteBuffer()
        buffer.writeString("{\"error\":{\"code\":\"\(status.code)\",\"message\":" + JSONWriter.quoted(message) + "}}")
        return .json(status, buffer)
    }
}
