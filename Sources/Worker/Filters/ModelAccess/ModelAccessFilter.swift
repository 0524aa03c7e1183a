import Config
import TollgateCore

/// Resolves the requested model (404 when unknown), checks the key may use it (403), picks
/// the route (the key's override for that model, else the model's own), and refuses a request
/// the catalog says no backend of the route can serve (chat on an embeddings model and the
/// reverse) before any provider is called.
struct ModelAccessFilter: RequestFilter {
    let name = "model-access"

    init(config: RuntimeConfig) {}

    func onRequest(_ context: RequestContext) -> FilterResult {
        let config = context.config
        guard let name = context.modelName, let key = context.key else {
            return .respond(GatewayError(status: 500, type: "server_error", code: "filter_order",
                                         message: "model-access ran before auth and request parsing; this is a gateway bug."))
        }
        guard let model = config.modelsByName[name] else {
            return .respond(.notFound("The model '\(name)' does not exist or you do not have access to it.", code: "model_not_found", param: "model"))
        }
        guard key.mayUse(model: name) else {
            return .respond(.forbidden("The API key '\(key.name)' is not allowed to use model '\(name)'.", code: "model_not_allowed"))
        }
        guard let route = config.route(for: model, key: key) else {
            return .respond(.serviceUnavailable("No route is configured for model '\(name)'.", code: "no_route"))
        }
        let needed: GatewayConfig.Capability = context.endpoint == .embeddings ? .embeddings : .chat
        guard route.mayServe(needed) else {
            let endpoint = context.endpoint == .embeddings ? "/v1/embeddings" : context.endpoint == .chatCompletions ? "/v1/chat/completions" : "/v1/messages"
            return .respond(.badRequest("The model '\(name)' is not \(needed == .embeddings ? "an embeddings" : "a chat") model and cannot serve \(endpoint).",
                                        code: "model_not_supported", param: "model"))
        }
        context.route = route
        return .proceed
    }
}
