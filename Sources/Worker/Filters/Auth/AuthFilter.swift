import NIOHTTP1
import TollgateCore

/// Authenticates the caller by API key (`Authorization: Bearer` or `x-api-key`) against the
/// hashed keys of the config; 401 in the front's error shape otherwise.
struct AuthFilter: RequestFilter {
    let name = "auth"
    let keys: KeyTable

    init(config: RuntimeConfig) {
        keys = config.keys
    }

    func onRequest(_ context: RequestContext) -> FilterResult {
        // The connection handler already authenticated the head against this generation's keys.
        if context.key != nil { return .proceed }
        switch Self.authenticate(context.head.headers, keys: keys) {
        case .success(let entry):
            context.key = entry
            return .proceed
        case .failure(let error):
            return .respond(error)
        }
    }

    /// The key entry for the request's credential, or the 401 to answer.
    static func authenticate(_ headers: HTTPHeaders, keys: KeyTable) -> Result<KeyTable.Entry, GatewayError> {
        if let auth = headers.first(name: "authorization") {
            let utf8 = auth.utf8
            guard utf8.count > 7, auth.prefix(7).lowercased() == "bearer ", let entry = keys.authenticate(utf8.dropFirst(7)) else {
                return .failure(.unauthorized("Incorrect API key provided. Check the key you pass in the Authorization header."))
            }
            return .success(entry)
        }
        if let key = headers.first(name: "x-api-key") {
            guard let entry = keys.authenticate(key.utf8) else {
                return .failure(.unauthorized("Incorrect API key provided. Check the key you pass in the x-api-key header."))
            }
            return .success(entry)
        }
        return .failure(.unauthorized("You didn't provide an API key. Send it as 'Authorization: Bearer <key>' or in the 'x-api-key' header."))
    }
}
