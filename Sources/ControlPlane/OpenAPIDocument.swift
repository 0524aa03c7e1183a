import ControlPlaneStore
import TollgateCore

/// The OpenAPI 3.1 description served at `/api/v1/openapi.json`, built from the same tables
/// the server uses (the collections of `ResourceKind`, the fields of `ResourceFields`), and
/// checked against the router's routes by a test, so it stays in step with the code.
enum OpenAPIDocument {
    /// Every operation as (method, path template), for the consistency test.
    static var operations: [(String, String)] {
        var out: [(String, String)] = []
        for (path, item) in paths {
            for method in (item.objectValue ?? [:]).keys where method != "parameters" { out.append((method.uppercased(), path)) }
        }
        return out.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
    }

    static let document: JSONValue = [
        "openapi": "3.1.0",
        "info": ["title": "Tollgate control plane", "version": .string(TollgateCore.version),
                 "description": "Management API for Tollgate data planes. Errors are {\"error\": {code, message, field?, issues?}}."],
        "servers": [["url": "/"]],
        "security": [["bearer": []]],
        "paths": .object(paths),
        "components": [
            "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer",
                                           "description": "bootstrap admin token, personal access token, or (config endpoint) data-plane credential"]],
            "schemas": .object(schemas),
            "parameters": [
                "org": ["name": "org", "in": "path", "required": true, "schema": ["type": "string"]],
                "id": ["name": "id", "in": "path", "required": true, "schema": ["type": "string"]],
                "limit": ["name": "limit", "in": "query", "schema": ["type": "integer", "minimum": 1, "maximum": 500]],
                "after": ["name": "after", "in": "query", "schema": ["type": "string"], "description": "the previous page's next cursor"],
                "ifMatch": ["name": "If-Match", "in": "header", "schema": ["type": "string"], "description": "the version ETag, e.g. \"3\""],
            ],
        ],
    ]

    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }
    static func param(_ name: String) -> JSONValue { ["$ref": .string("#/components/parameters/\(name)")] }

    static func json(_ schema: JSONValue, _ description: String) -> JSONValue {
        ["description": .string(description), "content": ["application/json": ["schema": schema]]]
    }

    static let errors: [String: JSONValue] = [
        "default": json(ref("Error"), "an error"),
    ]

    static func operation(_ summary: String, _ responses: [String: JSONValue], body: JSONValue? = nil, parameters: [JSONValue] = [],
                          security: Bool = true) -> JSONValue {
        var op: [String: JSONValue] = ["summary": .string(summary), "responses": .object(responses.merging(errors) { a, _ in a })]
        if let body { op["requestBody"] = ["required": true, "content": ["application/json": ["schema": body]]] }
        if !parameters.isEmpty { op["parameters"] = .array(parameters) }
        if !security { op["security"] = [] }
        return .object(op)
    }

    static var paths: [String: JSONValue] {
        var p: [String: JSONValue] = [
            "/healthz": ["get": operation("liveness", ["200": json(["type": "object"], "ok")], security: false)],
            "/api/v1/openapi.json": ["get": operation("this document", ["200": json(["type": "object"], "OpenAPI 3.1")], security: false)],
            "/api/v1/me": ["get": operation("the caller", ["200": json(["type": "object"], "principal")])],
            "/api/v1/orgs": [
                "get": operation("list organizations", ["200": json(ref("Page"), "a page")], parameters: [param("limit"), param("after")]),
                "post": operation("create an organization (bootstrap admin only)", ["201": json(ref("Resource"), "created")],
                                  body: ["type": "object", "required": ["name"], "properties": ["name": ["type": "string"], "description": ["type": "string"]],
                                         "additionalProperties": false]),
            ],
            "/api/v1/orgs/{org}": ["parameters": [param("org")], "get": operation("read an organization", ["200": json(ref("Resource"), "the organization")])],
            "/api/v1/dataplanes/{id}/config": [
                "parameters": [param("id")],
                "get": operation("the data plane's config (the poll, also its heartbeat)", [
                    "200": json(ref("ConfigDocument"), "the config, with ETag"),
                    "304": ["description": "unchanged since If-None-Match"],
                ], parameters: [
                    ["name": "If-None-Match", "in": "header", "schema": ["type": "string"]],
                    ["name": "X-Tollgate-Version", "in": "header", "schema": ["type": "string"]],
                    ["name": "X-Tollgate-Config-Error", "in": "header", "schema": ["type": "string"]],
                    ["name": "X-Tollgate-Poll-Interval-Ms", "in": "header", "schema": ["type": "integer"],
                     "description": "the data plane's poll interval, for counting missed polls"],
                ]),
            ],
            "/api/v1/dataplanes/{id}/register": [
                "parameters": [param("id")],
                "post": operation("exchange a one-time registration token (as the bearer) for the data plane's credential", [
                    "200": json(["type": "object", "required": ["dataplane_id", "credential"], "properties": [
                        "dataplane_id": ["type": "string"], "credential": ["type": "string"],
                    ]], "the credential, shown once"),
                ]),
            ],
            "/api/v1/orgs/{org}/dataplanes/{id}/registration-token": [
                "parameters": [param("org"), param("id")],
                "post": operation("a one-time registration token, shown once", [
                    "201": json(["type": "object", "required": ["registration_token", "expires_ms"], "properties": [
                        "dataplane_id": ["type": "string"], "registration_token": ["type": "string"], "expires_ms": ["type": "integer"],
                        "version": ["type": "integer"],
                    ]], "the token"),
                ], body: ["type": "object", "properties": ["expires_in_seconds": ["type": "integer", "minimum": 60, "maximum": 604_800]],
                          "additionalProperties": false]),
            ],
            "/api/v1/dataplanes/{id}/usage": [
                "parameters": [param("id")],
                "post": operation("upload usage aggregates (cumulative per series; a repeated batch_id is acknowledged and ignored)", [
                    "200": json(["type": "object", "required": ["batch_id", "rows", "duplicate"], "properties": [
                        "batch_id": ["type": "string"], "rows": ["type": "integer"], "duplicate": ["type": "boolean"],
                    ]], "applied, or already applied"),
                ], body: ref("UsageBatch")),
            ],
            "/api/v1/orgs/{org}/usage": [
                "parameters": [param("org")],
                "get": operation("usage per time bucket, grouped by key, model and/or team (a developer sees only its teams')",
                                 ["200": json(ref("UsagePage"), "sums per bucket and group")], parameters: [
                    ["name": "from", "in": "query", "schema": ["type": "integer", "minimum": 0], "description": "Unix seconds, inclusive (default: to - 24 h)"],
                    ["name": "to", "in": "query", "schema": ["type": "integer", "minimum": 0], "description": "Unix seconds, exclusive (default: now)"],
                    ["name": "bucket", "in": "query", "schema": ["type": "integer", "minimum": 60, "maximum": 31_622_400], "description": "seconds (default 3600)"],
                    ["name": "group_by", "in": "query", "schema": ["type": "string"], "description": "comma-separated: key, model, team"],
                    ["name": "key", "in": "query", "schema": ["type": "string"]],
                    ["name": "model", "in": "query", "schema": ["type": "string"]],
                    ["name": "team", "in": "query", "schema": ["type": "string"]],
                ]),
            ],
            "/api/v1/audit": ["get": operation("the audit log", ["200": json(ref("Page"), "entries, oldest first")], parameters: [
                ["name": "org", "in": "query", "schema": ["type": "string"]],
                ["name": "after", "in": "query", "schema": ["type": "integer", "minimum": 0]],
                ["name": "limit", "in": "query", "schema": ["type": "integer", "minimum": 1, "maximum": 1000]],
            ])],
            "/api/v1/audit/verify": ["get": operation("check the audit log's hash chain (bootstrap admin only)", ["200": json(ref("AuditVerification"), "the result")])],
            "/api/v1/orgs/{org}/api-keys/{id}/rotate": ["parameters": [param("org"), param("id")],
                                                        "post": operation("a new secret, shown once", ["200": json(ref("Resource"), "the key with `secret`")])],
            "/api/v1/orgs/{org}/api-keys/{id}/revoke": ["parameters": [param("org"), param("id")],
                                                        "post": operation("revoke the key", ["200": json(ref("Resource"), "the key")])],
            "/api/v1/orgs/{org}/dataplanes/{id}/rotate-credential": [
                "parameters": [param("org"), param("id")],
                "post": operation("a new data-plane credential, shown once", ["200": json(ref("Resource"), "the data plane with `credential`")]),
            ],
            "/api/v1/orgs/{org}/users/{id}/tokens": [
                "parameters": [param("org"), param("id")],
                "get": operation("the user's personal access tokens", ["200": json(ref("Page"), "tokens (never their secrets)")]),
                "post": operation("a personal access token, shown once", ["201": json(["type": "object"], "the token")],
                                  body: ["type": "object", "properties": ["name": ["type": "string"], "expires_in_days": ["type": "integer", "minimum": 1, "maximum": 3650]],
                                         "additionalProperties": false]),
            ],
            "/api/v1/orgs/{org}/users/{id}/tokens/{token}": [
                "parameters": [param("org"), param("id"), ["name": "token", "in": "path", "required": true, "schema": ["type": "string"]]],
                "delete": operation("revoke a token", ["204": ["description": "revoked"]]),
            ],
        ]
        for kind in ResourceKind.allCases {
            let input = ref("\(kind.schemaName)Input")
            p["/api/v1/orgs/{org}/\(kind.collection)"] = [
                "parameters": [param("org")],
                "get": operation("list \(kind.collection)", ["200": json(ref("Page"), "a page by name")],
                                 parameters: [param("limit"), param("after"), ["name": "name_prefix", "in": "query", "schema": ["type": "string"]]]),
                "post": operation("create a \(kind.rawValue)", ["201": json(ref("Resource"), "created")], body: input),
            ]
            p["/api/v1/orgs/{org}/\(kind.collection)/{id}"] = [
                "parameters": [param("org"), param("id")],
                "get": operation("read a \(kind.rawValue)", ["200": json(ref("Resource"), "with ETag")]),
                "put": operation("replace a \(kind.rawValue)", ["200": json(ref("Resource"), "replaced")], body: input, parameters: [param("ifMatch")]),
                "delete": operation("delete a \(kind.rawValue)", ["204": ["description": "deleted"]], parameters: [param("ifMatch")]),
            ]
        }
        return p
    }

    static var schemas: [String: JSONValue] {
        var s: [String: JSONValue] = [
            "Error": ["type": "object", "required": ["error"], "properties": ["error": [
                "type": "object", "required": ["code", "message"],
                "properties": ["code": ["type": "string"], "message": ["type": "string"], "field": ["type": "string"],
                               "issues": ["type": "array", "items": ["type": "object", "properties": ["path": ["type": "string"], "message": ["type": "string"]]]]],
            ]]],
            "Page": ["type": "object", "required": ["items", "next"], "properties": [
                "items": ["type": "array", "items": ["type": "object"]], "next": ["type": ["string", "null"]],
            ]],
            "Resource": ["type": "object", "required": ["id", "name", "version"], "properties": [
                "id": ["type": "string"], "name": ["type": "string"], "org_id": ["type": "string"], "version": ["type": "integer"],
                "created_ms": ["type": "integer"], "updated_ms": ["type": "integer"],
            ]],
            "ConfigDocument": ["type": "object", "required": ["format", "config", "secrets"], "properties": [
                "format": ["const": .string(ConfigRenderer.documentFormat)],
                "config": ["type": "string", "description": "the gateway config (YAML file schema) as JSON text"],
                "secrets": ["type": "object", "additionalProperties": ["type": "string"]],
            ]],
            "UsageBatch": ["type": "object", "required": ["batch_id", "source", "rows"], "additionalProperties": false, "properties": [
                "batch_id": ["type": "string", "maxLength": 128], "source": ["type": "string", "maxLength": 64],
                "interval_seconds": ["type": "integer", "minimum": 1, "maximum": 86_400],
                "rows": ["type": "array", "maxItems": .integer(Int64(ControlPlaneAPI.maxUsageRows)), "items": ["type": "object", "required": ["slot", "start", "key"], "properties": [
                    "slot": ["type": "integer"], "start": ["type": "integer"], "key": ["type": "string"], "model": ["type": "string"],
                    "requests": ["type": "integer"], "input_tokens": ["type": "integer"], "output_tokens": ["type": "integer"],
                    "cost_nano_usd": ["type": "integer"], "latency_ms_sum": ["type": "integer"],
                    "latency_buckets": ["type": "array", "items": ["type": "integer"], "maxItems": 12],
                    "errors": ["type": "object", "properties": ["client": ["type": "integer"], "auth": ["type": "integer"],
                                                               "rate_limited": ["type": "integer"], "upstream": ["type": "integer"]]],
                    "guardrail_blocks": ["type": "integer"],
                ]]],
            ]],
            "UsagePage": ["type": "object", "required": ["items", "next"], "properties": [
                "items": ["type": "array", "items": ["type": "object", "required": ["bucket_start", "requests"], "properties": [
                    "bucket_start": ["type": "integer"], "key": ["type": "string"], "model": ["type": "string"], "team": ["type": ["string", "null"]],
                    "requests": ["type": "integer"], "input_tokens": ["type": "integer"], "output_tokens": ["type": "integer"],
                    "cost_usd": ["type": "number"], "cost_nano_usd": ["type": "integer"], "latency_ms_sum": ["type": "integer"],
                    "latency_buckets": ["type": "array", "items": ["type": "object"]], "errors": ["type": "object"], "guardrail_blocks": ["type": "integer"],
                ]]],
                "next": ["type": ["string", "null"]],
            ]],
            "AuditVerification": ["type": "object", "required": ["ok", "entries", "head_hash"], "properties": [
                "ok": ["type": "boolean"], "entries": ["type": "integer"], "head_hash": ["type": "string"],
                "broken_at": ["type": "integer"], "problem": ["type": "string"],
            ]],
        ]
        for kind in ResourceKind.allCases {
            let fields = ResourceFields.of(kind)
            var properties: [String: JSONValue] = [:]
            for f in fields {
                var schema = f.type.schema
                if let note = f.note { schema["description"] = .string(note) }
                properties[f.name] = .object(schema)
            }
            s["\(kind.schemaName)Input"] = ["type": "object", "additionalProperties": false, "properties": .object(properties),
                                            "required": .array(fields.filter(\.required).map { .string($0.name) })]
        }
        return s
    }
}

extension ResourceKind {
    /// `api-key` → `ApiKey`, for schema names.
    var schemaName: String {
        rawValue.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}
