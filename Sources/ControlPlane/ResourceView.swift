import ControlPlaneStore

/// How resources look in API responses: id, name, the body without anything secret, the
/// version (also sent as the ETag) and timestamps. A sealed provider credential shows only its
/// type and key id; key and credential hashes are never shown.
enum ResourceView {
    static func render(_ r: Resource, extra: [String: JSONValue] = [:]) -> JSONValue {
        var out: [String: JSONValue] = [:]
        for (k, v) in r.body.objectValue ?? [:] where !["key_hash", "credential_hash"].contains(k) { out[k] = v }
        // A pending registration shows only when it expires, never the token's hash.
        if let registration = r.body["registration"] {
            out["registration"] = .object(["pending": .bool(true), "expires_ms": registration["expires_ms"] ?? .null])
        }
        if let credential = r.body["credential"], credential["type"]?.stringValue == "stored" {
            out["credential"] = .object(["type": .string("stored"), "key_id": credential["key_id"] ?? .null])
        }
        out["id"] = .string(r.id)
        out["name"] = .string(r.name)
        out["org_id"] = .string(r.orgID)
        out["version"] = .integer(r.version)
        out["created_ms"] = .integer(r.createdMs)
        out["updated_ms"] = .integer(r.updatedMs)
        for (k, v) in extra { out[k] = v }
        return .object(out)
    }

    static func render(_ o: Organization) -> JSONValue {
        var out = o.body.objectValue ?? [:]
        out["id"] = .string(o.id)
        out["name"] = .string(o.name)
        out["version"] = .integer(o.version)
        out["created_ms"] = .integer(o.createdMs)
        out["updated_ms"] = .integer(o.updatedMs)
        return .object(out)
    }

    static func render(_ e: AuditEntry) -> JSONValue {
        .object([
            "seq": .integer(e.seq), "occurred_ms": .integer(e.occurredMs), "actor": .string(e.actor), "source_ip": .string(e.sourceIP),
            "action": .string(e.action), "org_id": .string(e.orgID), "kind": .string(e.kind), "resource_id": .string(e.resourceID),
            "before": e.before.flatMap { JSONValue.parse($0) } ?? .null, "after": e.after.flatMap { JSONValue.parse($0) } ?? .null,
            "prev_hash": .string(e.prevHash), "hash": .string(e.hash),
        ])
    }
}
