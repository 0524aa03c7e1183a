import TollgateCore

/// Writes a conversation for a provider that wants alternating turns (Anthropic, Gemini,
/// Bedrock) straight into the upstream body: a block for the same role as the open turn joins
/// it, a block for another role closes it and opens the next. A message that yields no blocks
/// opens no turn.
struct TurnWriter {
    /// The key holding a turn's blocks: `content` (Anthropic, Bedrock) or `parts` (Gemini).
    enum ContentKey { case content, parts }

    let contentKey: ContentKey
    private var openRole: String?

    init(contentKey: ContentKey = .content) {
        self.contentKey = contentKey
    }

    /// Makes sure a turn of `role` is open in `b` (which is inside the turns array); the
    /// caller then writes one block.
    mutating func block(_ role: String, in b: inout JSONBuilder) {
        if openRole == role { return }
        if openRole != nil { closeTurn(&b) }
        openRole = role
        b.beginObject()
        b.key("role")
        b.string(role)
        switch contentKey {
        case .content: b.key("content")
        case .parts: b.key("parts")
        }
        b.beginArray()
    }

    /// Closes the open turn, if any.
    mutating func finish(in b: inout JSONBuilder) {
        if openRole != nil { closeTurn(&b) }
        openRole = nil
    }

    private func closeTurn(_ b: inout JSONBuilder) {
        b.endArray()
        b.endObject()
    }
}

/// `data:<media type>[;base64],<data>` URLs, as clients send inline images.
enum DataURL {
    /// The media type (the header's first `;`-separated field, nil when empty) and the data,
    /// or nil when `url` is not a data: URL with a comma.
    static func split(_ url: String, prefix: String = "data:") -> (mediaType: Substring?, data: Substring)? {
        guard url.hasPrefix(prefix), let comma = url.firstIndex(of: ",") else { return nil }
        let header = url[url.index(url.startIndex, offsetBy: prefix.count)..<comma]
        return (header.split(separator: ";").first, url[url.index(after: comma)...])
    }
}

/// Tool-call arguments (JSON text inside a string) as the object bytes a provider's body
/// embeds, validated with the scanner; empty or missing arguments are `{}`.
enum ToolArguments {
    static func object(_ text: String?) -> [UInt8]? {
        let text = text ?? "{}"
        let bytes = text.isEmpty ? Array("{}".utf8) : Array(text.utf8)
        guard (try? JSONScanner.scanObject(bytes)) != nil else { return nil }
        return bytes
    }
}
