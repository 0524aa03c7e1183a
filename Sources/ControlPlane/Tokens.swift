import Config
import Crypto
import Foundation

/// Random identifiers and bearer secrets, and how secrets are compared.
enum Tokens {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
    private static let secretAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// `prefix_` + 20 lowercase alphanumerics (~103 bits): resource ids.
    static func id(_ prefix: String) -> String {
        prefix + "_" + random(20, from: alphabet)
    }

    /// `prefix` + 43 alphanumerics (~256 bits): API keys (`tg_`), personal access tokens
    /// (`tgp_`), data-plane credentials (`tgdp_`). Rejection sampling keeps it unbiased.
    static func secret(_ prefix: String) -> String {
        prefix + random(43, from: secretAlphabet)
    }

    private static func random(_ count: Int, from alphabet: [UInt8]) -> String {
        var generator = SystemRandomNumberGenerator()
        var out: [UInt8] = []
        out.reserveCapacity(count)
        let limit = UInt8(256 - 256 % alphabet.count)
        while out.count < count {
            let byte = UInt8.random(in: 0...255, using: &generator)
            if byte < limit { out.append(alphabet[Int(byte) % alphabet.count]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The stored form: the same `sha256:<hex>` the gateway's config uses for API keys.
    static func hash(_ secret: String) -> String { APIKeyHash.hash(plaintext: secret) }

    /// Constant-time equality of two stored hashes (their lengths are not secret).
    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
