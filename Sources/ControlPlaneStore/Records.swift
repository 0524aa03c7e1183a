/// An organisation: the tenant every other resource belongs to.
public struct Organization: Sendable, Equatable {
    public var id: String
    public var name: String
    public var body: JSONValue
    public var version: Int64
    public var createdMs: Int64
    public var updatedMs: Int64

    public init(id: String, name: String, body: JSONValue, version: Int64, createdMs: Int64, updatedMs: Int64) {
        self.id = id
        self.name = name
        self.body = body
        self.version = version
        self.createdMs = createdMs
        self.updatedMs = updatedMs
    }
}

/// A typed document of one kind (team, user, api-key, provider, model, route,
/// guardrail-policy, dataplane) in one organisation; its name is unique per org and kind.
public struct Resource: Sendable, Equatable {
    public var kind: String
    public var id: String
    public var orgID: String
    public var name: String
    public var body: JSONValue
    public var version: Int64
    public var createdMs: Int64
    public var updatedMs: Int64

    public init(kind: String, id: String, orgID: String, name: String, body: JSONValue, version: Int64, createdMs: Int64, updatedMs: Int64) {
        self.kind = kind
        self.id = id
        self.orgID = orgID
        self.name = name
        self.body = body
        self.version = version
        self.createdMs = createdMs
        self.updatedMs = updatedMs
    }
}

/// A personal access token: only its SHA-256 is stored.
public struct AccessToken: Sendable, Equatable {
    public var id: String
    public var tokenHash: String
    public var userID: String
    public var orgID: String
    public var name: String
    public var createdMs: Int64
    public var expiresMs: Int64?
    public var revokedMs: Int64?

    public init(id: String, tokenHash: String, userID: String, orgID: String, name: String, createdMs: Int64, expiresMs: Int64?, revokedMs: Int64?) {
        self.id = id
        self.tokenHash = tokenHash
        self.userID = userID
        self.orgID = orgID
        self.name = name
        self.createdMs = createdMs
        self.expiresMs = expiresMs
        self.revokedMs = revokedMs
    }
}

/// What the last poll of a data plane told the control plane (the poll is the heartbeat).
public struct DataPlaneStatus: Sendable, Equatable {
    public var dataplaneID: String
    public var lastSeenMs: Int64
    public var polls: Int64
    /// The ETag of the config last sent to it.
    public var servedETag: String?
    /// The ETag the data plane reports as applied (its last good config).
    public var appliedETag: String?
    public var agentVersion: String?
    /// The data plane's last config error (a rejected config), nil when its last config applied.
    public var lastError: String?
    /// The poll interval the data plane reports, for counting the polls it missed.
    public var pollIntervalMs: Int64?

    public init(dataplaneID: String, lastSeenMs: Int64, polls: Int64, servedETag: String?, appliedETag: String?, agentVersion: String?, lastError: String?,
                pollIntervalMs: Int64? = nil) {
        self.pollIntervalMs = pollIntervalMs
        self.dataplaneID = dataplaneID
        self.lastSeenMs = lastSeenMs
        self.polls = polls
        self.servedETag = servedETag
        self.appliedETag = appliedETag
        self.agentVersion = agentVersion
        self.lastError = lastError
    }
}

/// One page of a listing; `next` is the cursor for the following page.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var next: String?
}

/// A change to apply through `ControlPlaneStore`, with who makes it.
public struct Change: Sendable {
    public var actor: AuditActor
    public var nowMs: Int64
    public init(actor: AuditActor, nowMs: Int64) {
        self.actor = actor
        self.nowMs = nowMs
    }
}
