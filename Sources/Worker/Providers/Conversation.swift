/// A conversation being built for a provider that wants alternating turns (Anthropic, Gemini,
/// Bedrock): content appended for the same role as the previous turn joins that turn.
struct Conversation {
    /// The key holding a turn's content: `content` (Anthropic, Bedrock) or `parts` (Gemini).
    let contentKey: String
    private(set) var turns: [[String: Any]] = []

    init(contentKey: String = "content") {
        self.contentKey = contentKey
    }

    mutating func append(role: String, _ blocks: [[String: Any]]) {
        guard !blocks.isEmpty else { return }
        if var last = turns.last, last["role"] as? String == role {
            last[contentKey] = (last[contentKey] as? [[String: Any]] ?? []) + blocks
            turns[turns.count - 1] = last
        } else {
            turns.append(["role": role, contentKey: blocks])
        }
    }
}
