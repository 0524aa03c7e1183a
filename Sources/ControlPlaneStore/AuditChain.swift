import Crypto
import Foundation

/// The chain's rules, shared by the writer and the verifier.
public enum AuditChain {
    /// The previous hash of entry 1.
    public static let genesis = String(repeating: "0", count: 64)

    /// Fields never written to the log, wherever they appear in a before/after state.
    public static let secretFields: Set<String> = ["key_hash", "credential_hash", "sealed", "secret", "token", "token_hash", "api_key", "password"]

    public static func redact(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (k, v) in o { out[k] = secretFields.contains(k) ? .string("[REDACTED]") : redact(v) }
            return .object(out)
        case .array(let a): return .array(a.map(redact))
        default: return value
        }
    }

    /// SHA-256 (lowercase hex) of `prev_hash` + "\n" + the entry's canonical JSON without its
    /// own hash.
    public static func hash(of entry: AuditEntry) -> String {
        var fields: [String: JSONValue] = [
            "seq": .integer(entry.seq), "occurred_ms": .integer(entry.occurredMs), "actor": .string(entry.actor),
            "source_ip": .string(entry.sourceIP), "action": .string(entry.action), "org_id": .string(entry.orgID),
            "kind": .string(entry.kind), "resource_id": .string(entry.resourceID), "prev_hash": .string(entry.prevHash),
        ]
        fields["before"] = entry.before.map(JSONValue.string) ?? .null
        fields["after"] = entry.after.map(JSONValue.string) ?? .null
        var input = Data(entry.prevHash.utf8)
        input.append(0x0A)
        input.append(JSONValue.object(fields).canonicalData())
        return hex(SHA256.hash(data: input))
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The outcome of checking the whole chain.
    public struct Verification: Sendable, Equatable, Codable {
        public var ok: Bool
        public var entries: Int64
        public var headHash: String
        /// The first entry that breaks the chain, and why.
        public var brokenAt: Int64?
        public var problem: String?

        enum CodingKeys: String, CodingKey {
            case ok, entries, problem
            case headHash = "head_hash", brokenAt = "broken_at"
        }
    }

    /// Walks entries in `seq` order: sequence numbers must be dense from 1 (a deleted entry
    /// leaves a gap), each `prev_hash` must be its predecessor's hash (a reordered entry
    /// breaks it), each hash must recompute (an edited entry), and the head must name the
    /// last entry (a truncated tail).
    public struct Verifier: Sendable {
        private var expectedSeq: Int64 = 1
        private var previous = AuditChain.genesis
        public private(set) var failure: (seq: Int64, problem: String)?

        public init() {}

        public mutating func feed(_ entry: AuditEntry) {
            guard failure == nil else { return }
            if entry.seq != expectedSeq {
                failure = (entry.seq, entry.seq > expectedSeq ? "entries \(expectedSeq)…\(entry.seq - 1) are missing" : "entry \(entry.seq) is out of order")
                return
            }
            if entry.prevHash != previous {
                failure = (entry.seq, "prev_hash does not match entry \(entry.seq - 1)'s hash (entries reordered or replaced)")
                return
            }
            if AuditChain.hash(of: entry) != entry.hash {
                failure = (entry.seq, "hash does not match the entry's contents (entry edited)")
                return
            }
            previous = entry.hash
            expectedSeq += 1
        }

        public func finish(headSeq: Int64, headHash: String) -> Verification {
            let count = expectedSeq - 1
            if let failure {
                return Verification(ok: false, entries: count, headHash: headHash, brokenAt: failure.seq, problem: failure.problem)
            }
            if headSeq != count || headHash != previous {
                return Verification(ok: false, entries: count, headHash: headHash, brokenAt: count + 1,
                                    problem: "the chain head names entry \(headSeq) but the log ends at entry \(count) (entries deleted from the end)")
            }
            return Verification(ok: true, entries: count, headHash: headHash, brokenAt: nil, problem: nil)
        }
    }
}
