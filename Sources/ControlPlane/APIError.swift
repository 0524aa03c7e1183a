import ControlPlaneStore

/// An API failure as the client sees it: a status, a stable machine-readable `code`, a message
/// that says what to fix, and for validation failures the path of every offending field.
/// Rendered as `{"error": {"code", "message", "field"?, "issues"?}}`.
public struct APIError: Error, Sendable, Equatable {
    public struct Issue: Sendable, Equatable {
        public var path: String
        public var message: String
        public init(path: String, message: String) {
            self.path = path
            self.message = message
        }
    }

    public var status: Int
    public var code: String
    public var message: String
    public var field: String?
    public var issues: [Issue] = []

    public init(status: Int, code: String, message: String, field: String? = nil, issues: [Issue] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.issues = issues
    }

    static func badRequest(_ message: String, field: String? = nil) -> APIError {
        APIError(status: 400, code: "invalid_request", message: message, field: field)
    }

    static func validation(_ issues: [Issue]) -> APIError {
        let first = issues.first
        let more = issues.count > 1 ? " (and \(issues.count - 1) more)" : ""
        return APIError(status: 422, code: "validation_failed", message: "\(first?.path ?? ""): \(first?.message ?? "invalid")\(more)",
                        field: first?.path, issues: issues)
    }

    static let unauthorized = APIError(status: 401, code: "unauthorized",
                                       message: "missing or invalid credential: send Authorization: Bearer <token>")
    static func forbidden(_ message: String) -> APIError { APIError(status: 403, code: "forbidden", message: message) }
    static func notFound(_ what: String) -> APIError { APIError(status: 404, code: "not_found", message: "\(what) not found") }
    static func conflict(_ message: String) -> APIError { APIError(status: 409, code: "conflict", message: message) }
    static func preconditionFailed(_ message: String) -> APIError { APIError(status: 412, code: "version_mismatch", message: message) }
    static func payloadTooLarge(_ limit: Int) -> APIError {
        APIError(status: 413, code: "payload_too_large", message: "request body exceeds \(limit) bytes")
    }
    static func methodNotAllowed(_ message: String) -> APIError { APIError(status: 405, code: "method_not_allowed", message: message) }
    static func `internal`(_ message: String) -> APIError { APIError(status: 500, code: "internal_error", message: message) }
    static func unavailable(_ message: String) -> APIError { APIError(status: 503, code: "unavailable", message: message) }

    /// Store failures the client can act on keep their meaning; the rest are 500 without the
    /// driver's text (which may hold SQL), which is logged instead.
    static func from(_ error: StoreError) -> APIError {
        switch error {
        case .notFound(let what): return .notFound(what)
        case .conflict(let message): return .conflict(message)
        case .versionMismatch(let expected, let current):
            return .preconditionFailed("If-Match names version \(expected) but the resource is at version \(current); read it again")
        default: return .internal("the database failed; see the control plane's log")
        }
    }

    var json: JSONValue {
        var error: [String: JSONValue] = ["code": .string(code), "message": .string(message)]
        if let field { error["field"] = .string(field) }
        if !issues.isEmpty {
            error["issues"] = .array(issues.map { .object(["path": .string($0.path), "message": .string($0.message)]) })
        }
        return .object(["error": .object(error)])
    }
}
