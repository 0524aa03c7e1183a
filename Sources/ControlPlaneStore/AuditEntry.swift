/// One administrative change as stored: who, when, from where, what, and the state before and
/// after (secrets already redacted by `AuditChain.redact`). `hash` is SHA-256 over the previous
/// entry's hash and this entry's canonical form, which is what makes the log tamper-evident.
public struct AuditEntry: Sendable, Equatable, Codable {
    public var seq: Int64
    public var occurredMs: Int64
    public var actor: String
    public var sourceIP: String
    public var action: String
    public var orgID: String
    public var kind: String
    public var resourceID: String
    /// Canonical JSON text of the states (hashed as stored, so verification never depends on
    /// re-encoding parsed numbers the same way).
    public var before: String?
    public var after: String?
    public var prevHash: String
    public var hash: String

    enum CodingKeys: String, CodingKey {
        case seq, actor, action, kind, before, after, hash
        case occurredMs = "occurred_ms", sourceIP = "source_ip", orgID = "org_id", resourceID = "resource_id", prevHash = "prev_hash"
    }
}

/// Who makes a change, for the audit entry.
public struct AuditActor: Sendable, Equatable {
    public var actor: String
    public var sourceIP: String
    public init(actor: String, sourceIP: String) {
        self.actor = actor
        self.sourceIP = sourceIP
    }
}
