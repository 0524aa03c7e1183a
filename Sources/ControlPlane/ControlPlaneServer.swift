import ControlPlaneStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Hummingbird 2 in front of `ControlPlaneAPI`: routes, body limits, JSON in and out.
///
/// Endpoints (all JSON, all under `/api/v1` but the health check):
/// `GET /healthz`; `GET /api/v1/openapi.json` (`OpenAPIDocument`); `GET /api/v1/me`; `GET|POST /orgs`; `GET /orgs/{org}`;
/// `GET|POST /orgs/{org}/{collection}` and `GET|PUT|DELETE /orgs/{org}/{collection}/{id}` for
/// teams, users, api-keys, providers, models, routes, guardrail-policies, dataplanes;
/// `POST /orgs/{org}/api-keys/{id}/rotate|revoke`, `POST /orgs/{org}/dataplanes/{id}/rotate-credential|registration-token`,
/// `GET|POST /orgs/{org}/users/{id}/tokens`, `DELETE /orgs/{org}/users/{id}/tokens/{token}`;
/// `POST /dataplanes/{id}/register`, `GET /dataplanes/{id}/config` and `POST /dataplanes/{id}/usage` (the data-plane protocol);
/// `GET /orgs/{org}/usage`; `GET /audit`, `GET /audit/verify`.
enum ControlPlaneServer {
    static func router(api: ControlPlaneAPI) -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.add(middleware: JSONErrorMiddleware())
        router.get("/healthz") { _, _ in Self.response(.json(.object(["status": .string("ok")]))) }
        let v1 = router.group("api/v1")
        v1.get("openapi.json") { _, _ in Self.response(.json(OpenAPIDocument.document)) }
        v1.get("me") { req, ctx in await Self.call(api, req, ctx) { try await api.me($0) } }
        v1.get("orgs") { req, ctx in await Self.call(api, req, ctx) { try await api.listOrganizations($0) } }
        v1.post("orgs") { req, ctx in await Self.call(api, req, ctx) { try await api.createOrganization($0) } }
        v1.get("orgs/:org") { req, ctx in
            await Self.call(api, req, ctx) { try await api.getOrganization($0, org: try Self.param(ctx, "org")) }
        }
        v1.get("orgs/:org/:collection") { req, ctx in
            await Self.call(api, req, ctx) {
                // `usage` is not a resource collection but shares the segment (see the token routes below).
                if try Self.param(ctx, "collection") == "usage" { return try await api.queryUsage($0, org: try Self.param(ctx, "org")) }
                return try await api.list($0, org: try Self.param(ctx, "org"), kind: try Self.kind(ctx))
            }
        }
        v1.post("orgs/:org/:collection") { req, ctx in
            await Self.call(api, req, ctx) { try await api.create($0, org: try Self.param(ctx, "org"), kind: try Self.kind(ctx)) }
        }
        v1.get("orgs/:org/:collection/:id") { req, ctx in
            await Self.call(api, req, ctx) { try await api.get($0, org: try Self.param(ctx, "org"), kind: try Self.kind(ctx), id: try Self.param(ctx, "id")) }
        }
        v1.put("orgs/:org/:collection/:id") { req, ctx in
            await Self.call(api, req, ctx) { try await api.replace($0, org: try Self.param(ctx, "org"), kind: try Self.kind(ctx), id: try Self.param(ctx, "id")) }
        }
        v1.delete("orgs/:org/:collection/:id") { req, ctx in
            await Self.call(api, req, ctx) { try await api.delete($0, org: try Self.param(ctx, "org"), kind: try Self.kind(ctx), id: try Self.param(ctx, "id")) }
        }
        v1.post("orgs/:org/:collection/:id/:action") { req, ctx in
            await Self.call(api, req, ctx) {
                try await api.action($0, org: try Self.param(ctx, "org"), kind: try Self.kind(ctx), id: try Self.param(ctx, "id"), action: try Self.param(ctx, "action"))
            }
        }
        // Literal segments where `:collection` is would shadow the generic routes in the trie,
        // so the token endpoints go through the same parameters and are checked in the handler.
        v1.get("orgs/:org/:collection/:id/:action") { req, ctx in
            await Self.call(api, req, ctx) {
                guard try Self.kind(ctx) == .user, try Self.param(ctx, "action") == "tokens" else { throw APIError.methodNotAllowed("GET is not defined here") }
                return try await api.listTokens($0, org: try Self.param(ctx, "org"), userID: try Self.param(ctx, "id"))
            }
        }
        v1.delete("orgs/:org/:collection/:id/:action/:token") { req, ctx in
            await Self.call(api, req, ctx) {
                guard try Self.kind(ctx) == .user, try Self.param(ctx, "action") == "tokens" else { throw APIError.notFound("endpoint") }
                return try await api.revokeToken($0, org: try Self.param(ctx, "org"), userID: try Self.param(ctx, "id"),
                                                 tokenID: try Self.param(ctx, "token"))
            }
        }
        v1.get("dataplanes/:id/config") { req, ctx in
            await Self.call(api, req, ctx) { try await api.dataplaneConfig($0, id: try Self.param(ctx, "id")) }
        }
        v1.post("dataplanes/:id/register") { req, ctx in
            await Self.call(api, req, ctx) { try await api.register($0, id: try Self.param(ctx, "id")) }
        }
        v1.post("dataplanes/:id/usage") { req, ctx in
            await Self.call(api, req, ctx) { try await api.uploadUsage($0, id: try Self.param(ctx, "id")) }
        }
        v1.get("audit") { req, ctx in await Self.call(api, req, ctx) { try await api.auditLog($0) } }
        v1.get("audit/verify") { req, ctx in await Self.call(api, req, ctx) { try await api.verifyAudit($0) } }
        return router
    }

    static func param(_ context: APIContext, _ name: String) throws(APIError) -> String {
        guard let value = context.parameters.get(name), !value.isEmpty, value.utf8.count <= 128 else {
            throw .badRequest("invalid path parameter \(name)")
        }
        return value
    }

    static func kind(_ context: APIContext) throws(APIError) -> ResourceKind {
        let collection = try param(context, "collection")
        guard let kind = ResourceKind(collection: collection) else {
            throw .notFound("collection \(collection) (known: \(ResourceKind.allCases.map(\.collection).joined(separator: ", ")))")
        }
        return kind
    }

    /// Turns the Hummingbird request into an `APIRequest` (body capped, JSON parsed), runs the
    /// handler, and renders its answer or its error.
    static func call(_ api: ControlPlaneAPI, _ request: Request, _ context: APIContext,
                     _ handler: (APIRequest) async throws -> APIResponse) async -> Response {
        var request = request
        var apiRequest = APIRequest(method: request.method.rawValue, authorization: request.headers[.authorization],
                                    ifMatch: request.headers[.ifMatch], ifNoneMatch: request.headers[.ifNoneMatch], sourceIP: context.sourceIP)
        for name in ["x-tollgate-version", "x-tollgate-config-error", "x-tollgate-poll-interval-ms"] {
            if let field = HTTPField.Name(name), let value = request.headers[field] { apiRequest.headers[name] = value }
        }
        for (key, value) in request.uri.queryParameters { apiRequest.query[String(key)] = String(value) }
        do {
            if [.post, .put, .patch].contains(request.method) {
                let limit = api.settings.maxBodyBytes
                let buffer: ByteBuffer
                do { buffer = try await request.collectBody(upTo: limit) } catch { throw APIError.payloadTooLarge(limit) }
                if buffer.readableBytes > 0 {
                    guard let json = JSONValue.parse(Data(buffer.readableBytesView)) else {
                        throw APIError.badRequest("the request body is not valid JSON")
                    }
                    apiRequest.body = json
                }
            }
            return response(try await handler(apiRequest))
        } catch let error as APIError {
            return response(.json(error.json, status: error.status))
        } catch {
            api.logger.error("unexpected error", metadata: ["error": "\(error)"])
            return response(.json(APIError.internal("unexpected error").json, status: 500))
        }
    }

    static func response(_ r: APIResponse) -> Response {
        var headers = HTTPFields()
        for (name, value) in r.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        guard let body = r.body else { return Response(status: .init(code: r.status), headers: headers) }
        headers[.contentType] = "application/json"
        var data = body.canonicalData()
        data.append(0x0A)
        return Response(status: .init(code: r.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
