/// The mock's text: what it "generates", how it splits an echo into tokens and how it
/// estimates a prompt's size. Deterministic, so a test can predict every byte of a reply.
///
/// A token is one word with its leading space (the first token of a reply has none), which is
/// close to how BPE tokenizers cut English, so the counts in `usage` are exact for the mock's
/// own text and a fair estimate for echoed text.
enum MockText {
    /// The reply text, repeated as often as the requested length needs.
    static let sentence = "Hello! This is the Tollgate mock provider answering from your own machine. "
        + "Every word of this reply was made up locally, so the quickstart, the tests and the benchmarks "
        + "run without a real API key."

    static let words: [String] = sentence.split(separator: " ").map(String.init)
    private static let spacedWords: [String] = words.map { " " + $0 }

    /// The mock's reply of `count` tokens.
    static func generated(count: Int) -> [String] {
        var out: [String] = []
        out.reserveCapacity(count)
        for i in 0..<max(0, count) {
            out.append(i == 0 ? words[0] : spacedWords[i % words.count])
        }
        return out
    }

    /// `text` cut into tokens at spaces, each later token keeping its leading space, so the
    /// tokens joined give back `text` exactly.
    static func echoTokens(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        for ch in text {
            if ch == " ", !current.isEmpty, current != " " {
                out.append(current)
                current = ""
            }
            current.append(ch)
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// The tokens of a reply under `controls`: the echo of `echoText()` (read only when asked
    /// for) or the generated text, cut to `limit` tokens; `cut` tells whether the limit did.
    static func reply(_ controls: MockControls, limit: Int?, echoText: () -> String) -> (tokens: [String], cut: Bool) {
        var tokens = controls.echo ? echoTokens(echoText()) : generated(count: controls.outputTokens)
        guard let limit, limit >= 0, tokens.count > limit else { return (tokens, false) }
        tokens.removeLast(tokens.count - limit)
        return (tokens, true)
    }

    /// Tokens of `byteCount` bytes of text: one per four bytes, rounded up (OpenAI's rule of thumb).
    static func estimatedTokens(byteCount: Int) -> Int {
        (max(0, byteCount) + 3) / 4
    }
}
