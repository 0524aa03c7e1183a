import Foundation
import TollgateCore

/// Serialises a translated request object (the `[String: Any]` the request translators build)
/// for the upstream; the one place that turns a failure into the 500 `translation_error`.
enum TranslatedBody {
    static func encode(_ object: [String: Any], providerKind: String) -> Result<[UInt8], GatewayError> {
        guard let data = try? JSONSerialization.data(withJSONObject: object) else {
            return .failure(GatewayError(status: 500, type: "server_error", code: "translation_error",
                                         message: "The request could not be encoded for provider kind \(providerKind)."))
        }
        return .success(Array(data))
    }
}
