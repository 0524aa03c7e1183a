import TollgateCore

/// Azure AI Content Safety, the pure half: the request bodies for `text:analyze` and
/// `text:shieldPrompt` and the verdict on their answers. The I/O (an HTTP call with a timeout)
/// belongs to the worker; keeping this side pure makes every threshold rule unit-testable.
public enum ContentSafety {
    /// The API analyses at most this many characters per call; longer texts are split.
    public static let maxCharacters = 10_000

    /// The four harm categories, as the API names them, and their config names.
    public static let categories: [(config: String, api: String)] = [
        ("hate", "Hate"), ("self_harm", "SelfHarm"), ("sexual", "Sexual"), ("violence", "Violence"),
    ]

    /// What one call (or a set of calls over one text) decided.
    public enum Verdict: Sendable, Equatable {
        case pass
        /// A category at or above its threshold (`hate`), a blocklist hit (`blocklist:<name>`)
        /// or a detected prompt attack (`prompt_attack`).
        case violation(rule: String)
        /// The service could not give an answer (status, timeout, unreadable body).
        case error(String)
    }

    /// `text` in pieces of at most `maxCharacters` characters (never splitting a character).
    public static func split(_ text: String, limit: Int = maxCharacters) -> [String] {
        guard text.count > limit else { return [text] }
        var out: [String] = []
        var start = text.startIndex
        while start < text.endIndex {
            let end = text.index(start, offsetBy: limit, limitedBy: text.endIndex) ?? text.endIndex
            out.append(String(text[start..<end]))
            start = end
        }
        return out
    }

    /// The `text:analyze` body for one piece: the categories with a threshold and the
    /// blocklists to match, four severity levels (0, 2, 4, 6).
    public static func analyzeBody(_ text: String, categories: [String], blocklists: [String]) -> [UInt8] {
        var out: [UInt8] = Array("{\"text\":".utf8)
        JSONWriter.appendQuoted(text, to: &out)
        out += Array(",\"categories\":".utf8)
        appendStrings(categories.compactMap { name in Self.categories.first { $0.config == name }?.api }, to: &out)
        out += Array(",\"blocklistNames\":".utf8)
        appendStrings(blocklists, to: &out)
        out += Array(",\"haltOnBlocklistHit\":false,\"outputType\":\"FourSeverityLevels\"}".utf8)
        return out
    }

    /// The `text:shieldPrompt` body: the prompt as `userPrompt`, `documents` (e.g. tool
    /// results or retrieved text) separately, as the API distinguishes direct and indirect attacks.
    public static func shieldPromptBody(userPrompt: String, documents: [String]) -> [UInt8] {
        var out: [UInt8] = Array("{\"userPrompt\":".utf8)
        JSONWriter.appendQuoted(userPrompt, to: &out)
        out += Array(",\"documents\":".utf8)
        appendStrings(documents, to: &out)
        out.append(0x7D)
        return out
    }

    /// A JSON array of strings.
    static func appendStrings(_ strings: [String], to out: inout [UInt8]) {
        out.append(0x5B)
        for (i, s) in strings.enumerated() {
            if i > 0 { out.append(0x2C) }
            JSONWriter.appendQuoted(s, to: &out)
        }
        out.append(0x5D)
    }

    /// The verdict on a `text:analyze` answer: `thresholds` maps config category names to
    /// the lowest severity that counts as a violation.
    public static func analyzeVerdict(status: Int, body: [UInt8], thresholds: [String: Int]) -> Verdict {
        guard status == 200 else { return .error("text:analyze answered HTTP \(status)") }
        return body.withUnsafeBytes { raw -> Verdict in
            guard let top = try? JSONScanner.scanObject(raw) else { return .error("text:analyze answered with invalid JSON") }
            if let hits = top.member("blocklistsMatch", in: raw), hits.kind == .array,
               let first = (try? JSONScanner.scanArray(raw, in: hits.value))?.first(where: { $0.kind == .object }),
               let hit = try? JSONScanner.scanObject(raw, in: first.value) {
                return .violation(rule: "blocklist:\(hit.string("blocklistName", in: raw) ?? "?")")
            }
            guard let analysis = top.member("categoriesAnalysis", in: raw), analysis.kind == .array else {
                return .error("text:analyze answer has no categoriesAnalysis")
            }
            for element in (try? JSONScanner.scanArray(raw, in: analysis.value)) ?? [] where element.kind == .object {
                guard let entry = try? JSONScanner.scanObject(raw, in: element.value),
                      let api = entry.string("category", in: raw), let severity = entry.int("severity", in: raw),
                      let name = Self.categories.first(where: { $0.api == api })?.config,
                      let threshold = thresholds[name] else { continue }
                if severity >= threshold { return .violation(rule: name) }
            }
            return .pass
        }
    }

    /// The verdict on a `text:shieldPrompt` answer: an attack in the prompt or any document.
    public static func shieldVerdict(status: Int, body: [UInt8]) -> Verdict {
        guard status == 200 else { return .error("text:shieldPrompt answered HTTP \(status)") }
        return body.withUnsafeBytes { raw -> Verdict in
            guard let top = try? JSONScanner.scanObject(raw) else { return .error("text:shieldPrompt answered with invalid JSON") }
            if let user = top.member("userPromptAnalysis", in: raw), user.kind == .object,
               (try? JSONScanner.scanObject(raw, in: user.value))?.bool("attackDetected", in: raw) == true {
                return .violation(rule: "prompt_attack")
            }
            if let docs = top.member("documentsAnalysis", in: raw), docs.kind == .array {
                for d in (try? JSONScanner.scanArray(raw, in: docs.value)) ?? [] where d.kind == .object {
                    if (try? JSONScanner.scanObject(raw, in: d.value))?.bool("attackDetected", in: raw) == true {
                        return .violation(rule: "document_attack")
                    }
                }
            }
            return .pass
        }
    }

    /// Several verdicts over one text: the first violation, else the first error, else pass.
    public static func combine(_ verdicts: [Verdict]) -> Verdict {
        if let v = verdicts.first(where: { if case .violation = $0 { return true } else { return false } }) { return v }
        if let e = verdicts.first(where: { if case .error = $0 { return true } else { return false } }) { return e }
        return .pass
    }
}
