import Config
import Crypto

/// API keys by hash. A presented key is hashed with SHA-256 and looked up by the first eight
/// digest bytes; the full digest is then compared in constant time, so neither the lookup nor
/// the comparison tells an attacker how much of a guess was right. Plaintext keys are never
/// stored, in the config, the snapshot or memory.
struct KeyTable: Sendable {
    struct Entry: Sendable {
        let name: String
        let digest: [UInt8]
        let allowsAllModels: Bool
        let allowedModels: Set<String>
        let routeOverrides: [String: String]

        func mayUse(model: String) -> Bool {
            allowsAllModels || allowedModels.contains(model)
        }
    }

    private let buckets: [UInt64: [Entry]]

    init(_ keys: [GatewayConfig.APIKey], routes: [String: CompiledRoute]) throws(RuntimeConfigError) {
        var buckets: [UInt64: [Entry]] = [:]
        for key in keys {
            guard let digest = APIKeyHash.digest(ofStored: key.keyHash), digest.count == 32 else {
                throw .invalidKeyHash(key: key.name)
            }
            let entry = Entry(name: key.name, digest: digest, allowsAllModels: key.models.contains("*"),
                              allowedModels: Set(key.models), routeOverrides: key.routes)
            buckets[Self.prefix(digest), default: []].append(entry)
        }
        self.buckets = buckets
    }

    /// The entry whose hash matches `presented`, or nil.
    func authenticate(_ presented: some Collection<UInt8>) -> Entry? {
        let digest = Array(SHA256.hash(data: Array(presented)))
        guard let candidates = buckets[Self.prefix(digest)] else { return nil }
        var found: Entry?
        for entry in candidates where Self.constantTimeEqual(entry.digest, digest) {
            found = entry
        }
        return found
    }

    private static func prefix(_ digest: [UInt8]) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(digest[i]) }
        return v
    }

    /// Compares every byte regardless of where the first difference is.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}
