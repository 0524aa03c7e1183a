import Crypto
import Foundation

/// Provider credentials at rest: AES-256-GCM under a master key the operator supplies (env
/// `TOLLGATE_CP_MASTER_KEY` or a key file), never stored in the database. Each sealed value
/// names its key id, so keys rotate: the first key seals, every listed key opens. The
/// associated data binds a ciphertext to its org and provider, so a database writer cannot
/// move one provider's credential to another.
///
/// Sealed form: `v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`.
public struct SecretBox: Sendable {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Key bytes, not `SymmetricKey`s (which are not `Sendable`); a key is built per use.
    let keys: [(id: String, key: Data)]

    /// Parses key material: one key per line, `ID:BASE64` (32 bytes after decoding), or a
    /// single bare base64 key (id `k1`). Blank lines and `#` comments are ignored.
    public init(keyMaterial: String) throws(Failure) {
        var keys: [(id: String, key: Data)] = []
        for (n, raw) in keyMaterial.split(whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            var id = "k1"
            var encoded = line
            if let colon = line.firstIndex(of: ":") {
                id = String(line[..<colon])
                encoded = String(line[line.index(after: colon)...])
            }
            guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), id.count <= 32 else {
                throw Failure(description: "master key line \(n + 1): the key id must be 1-32 letters, digits, - or _")
            }
            guard let bytes = Data(base64Encoded: encoded), bytes.count == 32 else {
                throw Failure(description: "master key line \(n + 1): expected 32 bytes in base64 (e.g. `openssl rand -base64 32`)")
            }
            guard !keys.contains(where: { $0.0 == id }) else {
                throw Failure(description: "master key line \(n + 1): key id \(id) appears twice")
            }
            keys.append((id, bytes))
        }
        guard !keys.isEmpty else { throw Failure(description: "no master key found") }
        self.keys = keys
    }

    public var activeKeyID: String { keys[0].id }

    public func seal(_ plaintext: String, context: String) throws(Failure) -> String {
        let (id, key) = keys[0]
        do {
            let box = try AES.GCM.seal(Data(plaintext.utf8), using: SymmetricKey(data: key), authenticating: Data(context.utf8))
            guard let combined = box.combined else { throw Failure(description: "AES-GCM produced no output") }
            return "v1:\(id):\(combined.base64EncodedString())"
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure(description: "cannot seal the credential: \(error)")
        }
    }

    public func open(_ sealed: String, context: String) throws(Failure) -> String {
        let parts = sealed.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v1", let data = Data(base64Encoded: String(parts[2])) else {
            throw Failure(description: "sealed credential has an unknown format")
        }
        guard let key = keys.first(where: { $0.id == parts[1] })?.key else {
            throw Failure(description: "sealed with master key \"\(parts[1])\", which is not configured")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: data)
            return String(decoding: try AES.GCM.open(box, using: SymmetricKey(data: key), authenticating: Data(context.utf8)), as: UTF8.self)
        } catch {
            throw Failure(description: "sealed credential does not open with key \"\(parts[1])\" (wrong key or tampered)")
        }
    }
}
