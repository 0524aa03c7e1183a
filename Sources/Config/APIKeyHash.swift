import Crypto

/// How client API keys are stored: `sha256:` + the lowercase hex SHA-256 of the key. Keys are
/// high-entropy random tokens, so an unsalted fast hash is the industry norm (and lets the
/// worker find a key by hash in O(1)); the plaintext never reaches config, snapshot or logs.
public enum APIKeyHash {
    public static let prefix = "sha256:"

    public static func hash(plaintext: String) -> String {
        let digest = SHA256.hash(data: Array(plaintext.utf8))
        return prefix + digest.map { byte in
            let s = String(byte, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
    }

    /// The 32 digest bytes of a stored hash, or nil when it is not `sha256:<64 hex>`.
    public static func digest(ofStored stored: String) -> [UInt8]? {
        guard stored.hasPrefix(prefix) else { return nil }
        let hex = Array(stored.utf8.dropFirst(prefix.utf8.count))
        guard hex.count == 64 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        var i = 0
        while i < 64 {
            guard let hi = nibble(hex[i]), let lo = nibble(hex[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
