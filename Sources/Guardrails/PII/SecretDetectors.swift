/// Credentials with a recognisable shape: AWS key ids and secrets, PEM private key blocks
/// and the token formats of common API providers.
enum SecretDetectors {
    // MARK: - AWS

    /// AWS key id prefixes: long-term (AKIA), temporary (ASIA) and the other IAM unique ids.
    static let awsPrefixes: [[UInt8]] = ["AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "APKA"].map { Array($0.utf8) }

    static func scanAWSAccessKeys(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Range<Int>]) {
        let n = text.count
        guard n >= 20 else { return }
        var i = ByteClass.next(text, 0, byte: 0x41)
        while i + 20 <= n {
            guard text[i] == 0x41, !ByteClass.isAlnum(ByteClass.at(text, i - 1)), hasPrefix(text, i, awsPrefixes) else {
                i = ByteClass.next(text, i + 1, byte: 0x41)
                continue
            }
            var ok = true
            for k in 4..<20 {
                let c = text[i + k]
                // Base32: A–Z and 2–7.
                if !(ByteClass.isUpper(c) || (c >= 0x32 && c <= 0x37)) {
                    ok = false
                    break
                }
            }
            if ok, !ByteClass.isAlnum(ByteClass.at(text, i + 20)) {
                out.append(i..<(i + 20))
                i += 20
            } else {
                i += 1
            }
        }
    }

    @inline(__always)
    static func isSecretChar(_ b: UInt8) -> Bool { ByteClass.isAlnum(b) || b == 0x2F || b == 0x2B }

    /// 40 characters of base64 alphabet (mixed case and digits) within 80 bytes after a
    /// mention of `aws` or `secret`: bare 40-character strings are too often hashes. Once a
    /// value is confirmed that way, every other occurrence of the same value in the text is
    /// the secret too, context or not (otherwise a repeated key leaked in its second copy).
    static func scanAWSSecretKeys(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Range<Int>]) {
        let n = text.count
        guard n >= 40 else { return }
        // Shaped like a key but without context: kept until the end, in case their value
        // was confirmed elsewhere. Linear: each candidate is looked up once in a set.
        var unconfirmed: [Range<Int>] = []
        var confirmed: [Range<Int>] = []
        var i = 0
        while i + 40 <= n {
            guard isSecretChar(text[i]), !isSecretChar(ByteClass.at(text, i - 1)) else {
                i += 1
                continue
            }
            var j = i
            while j < n, isSecretChar(text[j]), j - i <= 40 { j += 1 }
            // Only a run of exactly 40 is a candidate; the character mix is checked on those.
            var upper = false, lower = false, digit = false
            if j - i == 40 {
                for k in i..<j {
                    let c = text[k]
                    if ByteClass.isUpper(c) { upper = true } else if ByteClass.isLower(c) { lower = true } else if ByteClass.isDigit(c) { digit = true }
                }
            }
            if j - i == 40, upper, lower, digit, ByteClass.at(text, j) != 0x3D {
                if hasContext(text, before: i) { confirmed.append(i..<j) } else { unconfirmed.append(i..<j) }
            }
            while j < n, isSecretChar(text[j]) { j += 1 }
            i = j
        }
        guard !confirmed.isEmpty else { return }
        if unconfirmed.isEmpty {
            out += confirmed
            return
        }
        let values = Set(confirmed.map { Array(text[$0]) })
        var found = confirmed
        for r in unconfirmed where values.contains(Array(text[r])) { found.append(r) }
        out += found.sorted { $0.lowerBound < $1.lowerBound }
    }

    static func hasContext(_ text: UnsafeBufferPointer<UInt8>, before: Int) -> Bool {
        let from = max(0, before - 80)
        var k = from
        while k + 3 <= before {
            let a = text[k] | 0x20, b = text[k + 1] | 0x20, c = text[k + 2] | 0x20
            if a == 0x61, b == 0x77, c == 0x73 { return true }                       // aws
            if a == 0x73, b == 0x65, c == 0x63, k + 6 <= before,
               text[k + 3] | 0x20 == 0x72, text[k + 4] | 0x20 == 0x65, text[k + 5] | 0x20 == 0x74 { return true } // secret
            k += 1
        }
        return false
    }

    // MARK: - PEM private keys

    static let pemBegin = Array("-----BEGIN ".utf8)
    static let pemPrivate = Array("PRIVATE KEY-----".utf8)
    static let pemEnd = Array("-----END ".utf8)

    /// `-----BEGIN … PRIVATE KEY-----` through the matching END line; an unterminated block
    /// runs to the end of the text (a truncated key is still a key).
    static func scanPrivateKeys(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Range<Int>]) {
        let n = text.count
        var i = ByteClass.next(text, 0, byte: 0x2D)
        while i + pemBegin.count <= n {
            guard text[i] == 0x2D, matches(text, i, pemBegin) else {
                i = ByteClass.next(text, i + 1, byte: 0x2D)
                continue
            }
            // The label must end with PRIVATE KEY----- within the BEGIN line.
            var j = i + pemBegin.count
            var labelEnd: Int?
            while j < n, j - i < 64, text[j] != 0x0A {
                if text[j] == 0x50, matches(text, j, pemPrivate) {
                    labelEnd = j + pemPrivate.count
                    break
                }
                j += 1
            }
            guard let afterBegin = labelEnd else {
                i += 1
                continue
            }
            var end = n
            var k = afterBegin
            while k + pemEnd.count <= n {
                if text[k] == 0x2D, matches(text, k, pemEnd) {
                    var m = k + pemEnd.count
                    while m < n, m - k < 64, text[m] != 0x0A {
                        if text[m] == 0x50, matches(text, m, pemPrivate) {
                            end = m + pemPrivate.count
                            break
                        }
                        m += 1
                    }
                    if end != n { break }
                }
                k += 1
            }
            out.append(i..<end)
            i = end
        }
    }

    // MARK: - Provider API keys

    /// A prefix, the allowed body characters, and the body's minimum length.
    struct TokenShape {
        let prefix: [UInt8]
        let minBody: Int
        let allowDash: Bool
    }

    static let tokenShapes: [TokenShape] = [
        TokenShape(prefix: Array("sk-".utf8), minBody: 20, allowDash: true),           // OpenAI, Anthropic (sk-ant-…), DeepSeek
        TokenShape(prefix: Array("ghp_".utf8), minBody: 36, allowDash: false),         // GitHub personal token
        TokenShape(prefix: Array("gho_".utf8), minBody: 36, allowDash: false),
        TokenShape(prefix: Array("ghu_".utf8), minBody: 36, allowDash: false),
        TokenShape(prefix: Array("ghs_".utf8), minBody: 36, allowDash: false),
        TokenShape(prefix: Array("ghr_".utf8), minBody: 36, allowDash: false),
        TokenShape(prefix: Array("github_pat_".utf8), minBody: 22, allowDash: false),
        TokenShape(prefix: Array("glpat-".utf8), minBody: 20, allowDash: true),        // GitLab
        TokenShape(prefix: Array("xoxb-".utf8), minBody: 10, allowDash: true),         // Slack bot
        TokenShape(prefix: Array("xoxp-".utf8), minBody: 10, allowDash: true),         // Slack user
        TokenShape(prefix: Array("xoxa-".utf8), minBody: 10, allowDash: true),
        TokenShape(prefix: Array("xoxr-".utf8), minBody: 10, allowDash: true),
        TokenShape(prefix: Array("xoxs-".utf8), minBody: 10, allowDash: true),
        TokenShape(prefix: Array("AIza".utf8), minBody: 35, allowDash: true),          // Google API key
        TokenShape(prefix: Array("sk_live_".utf8), minBody: 24, allowDash: false),     // Stripe secret
        TokenShape(prefix: Array("rk_live_".utf8), minBody: 24, allowDash: false),     // Stripe restricted
        TokenShape(prefix: Array("hf_".utf8), minBody: 34, allowDash: false),          // Hugging Face
        TokenShape(prefix: Array("gsk_".utf8), minBody: 40, allowDash: false),         // Groq
    ]

    /// First bytes of the prefixes, for a cheap skip.
    static let firstBytes: [Bool] = {
        var t = [Bool](repeating: false, count: 256)
        for s in tokenShapes { t[Int(s.prefix[0])] = true }
        return t
    }()

    static func scanAPIKeys(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Range<Int>]) {
        let n = text.count
        var i = ByteClass.next(text, 0, ByteClass.startAPIKey)
        while i < n {
            guard firstBytes[Int(text[i])], !ByteClass.isBase64URL(ByteClass.at(text, i - 1)) else {
                i = ByteClass.next(text, i + 1, ByteClass.startAPIKey)
                continue
            }
            var matched = false
            for shape in tokenShapes where matches(text, i, shape.prefix) {
                var j = i + shape.prefix.count
                var digits = 0
                while j < n, ByteClass.isAlnum(text[j]) || text[j] == 0x5F || (shape.allowDash && text[j] == 0x2D) {
                    if ByteClass.isDigit(text[j]) { digits += 1 }
                    j += 1
                }
                // A real token mixes digits in; prose like "sk-learn-is-great-…" does not.
                if j - i - shape.prefix.count >= shape.minBody, digits >= 2 {
                    out.append(i..<j)
                    i = j
                    matched = true
                    break
                }
            }
            if !matched { i += 1 }
        }
    }

    // MARK: - Helpers

    @inline(__always)
    static func matches(_ text: UnsafeBufferPointer<UInt8>, _ at: Int, _ literal: [UInt8]) -> Bool {
        guard at + literal.count <= text.count else { return false }
        for k in 0..<literal.count where text[at + k] != literal[k] { return false }
        return true
    }

    static func hasPrefix(_ text: UnsafeBufferPointer<UInt8>, _ at: Int, _ prefixes: [[UInt8]]) -> Bool {
        prefixes.contains { matches(text, at, $0) }
    }
}
