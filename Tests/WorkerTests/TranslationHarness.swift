import Foundation
import NIOHTTP1
import TollgateCore
@testable import Worker

/// Runs the request translators the way the adapters do (body → `ChatRequest` → upstream
/// bytes) and parses what they wrote with Foundation, so tests assert on the JSON the
/// upstream would receive whatever the key order.
enum TranslationHarness {
    static func object(_ bytes: [UInt8]) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
    }

    private static func parsed(_ result: Result<[UInt8], GatewayError>) -> Result<[String: Any], GatewayError> {
        result.flatMap { bytes in
            guard let o = object(bytes) else {
                return .failure(GatewayError(status: 500, type: "server_error", code: "test_invalid_json",
                                             message: "the translator wrote invalid JSON: \(String(decoding: bytes, as: UTF8.self))"))
            }
            return .success(o)
        }
    }

    static func anthropic(_ json: String, upstreamModel: String) -> Result<[String: Any], GatewayError> {
        parsed(ChatRequest.decode(Array(json.utf8)).flatMap { AnthropicRequestTranslator.translate($0, upstreamModel: upstreamModel) })
    }

    static func gemini(_ json: String) -> Result<[String: Any], GatewayError> {
        parsed(ChatRequest.decode(Array(json.utf8)).flatMap { GeminiRequestTranslator.translate($0) })
    }

    static func bedrock(_ json: String) -> Result<[String: Any], GatewayError> {
        parsed(ChatRequest.decode(Array(json.utf8)).flatMap { BedrockConverseTranslator.translate($0) })
    }

    static func anthropicFront(_ json: String, upstreamModel: String) -> Result<[String: Any], GatewayError> {
        parsed(AnthropicToOpenAIRequest.translate(Array(json.utf8), upstreamModel: upstreamModel))
    }

    /// An embeddings extractor run on a JSON body.
    static func extract(_ extract: EmbeddingsTranslator.Extract, _ json: String, _ headers: HTTPHeaders = HTTPHeaders()) -> (vectors: [[Double]], tokens: Int?)? {
        Array(json.utf8).withUnsafeBytes { raw in JSONObjectView(document: raw).flatMap { extract($0, headers) } }
    }
}
