import Hummingbird

/// Unmatched routes and Hummingbird's own errors in the API's error format.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = APIContext

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let code = error.status == .notFound ? "not_found" : error.status == .methodNotAllowed ? "method_not_allowed" : "http_error"
            let message = error.status == .notFound ? "no such endpoint: \(request.method.rawValue) \(request.uri.path)" : (error.body ?? error.status.reasonPhrase)
            return ControlPlaneServer.response(APIResponse.json(APIError(status: error.status.code, code: code, message: message).json,
                                                                status: error.status.code))
        }
    }
}
