import Config
import Foundation
import NIOCore
import NIOHTTP1
import TollgateCore

/// A provider's embeddings response → OpenAI's embeddings list. The provider-specific part is
/// `extract`: from the decoded JSON body (and the response headers, where Bedrock puts the
/// token count) to the vectors and, when the provider reports it, the token count; without a
/// count the usage is the request's estimate. Errors keep the upstream's message in OpenAI's
/// error shape.
final class EmbeddingsTranslator: ResponseTranslator {
    typealias Extract = (_ body: Any, _ headers: HTTPHeaders) -> (vectors: [[Double]], tokens: Int?)?

    private let providerKind: String
    private let model: String
    private let input: EmbeddingsInput
    private let price: GatewayConfig.ModelPrice?
    private let extract: Extract
    private var headers = HTTPHeaders()
    private(set) var usage: Usage?

    init(providerKind: String, publicModel: String, input: EmbeddingsInput, price: GatewayConfig.ModelPrice?, extract: @escaping Extract) {
        self.providerKind = providerKind
        self.model = publicModel
        self.input = input
        self.price = price
        self.extract = extract
    }

    func mode(status: Int, headers: HTTPHeaders) -> TranslationMode {
        self.headers = headers
        return .buffered
    }

    func translateChunk(_ buffer: ByteBuffer) -> [UInt8] { [] }
    func finishStream() -> [UInt8] { [] }

    func translateWhole(status: Int, body: [UInt8]) -> (status: Int, body: [UInt8]) {
        let object = try? JSONSerialization.jsonObject(with: Data(body))
        guard (200..<300).contains(status) else {
            let e = GatewayError(status: status, type: status >= 500 ? "server_error" : "invalid_request_error", code: nil,
                                 message: "Upstream (\(providerKind)): " + (Self.errorMessage(object) ?? "HTTP \(status)"))
            return (status, Array(e.openAIBody.utf8))
        }
        guard let object, let result = extract(object, headers), result.vectors.count == input.texts.count else {
            let e = GatewayError(status: 502, type: "server_error", code: "upstream_invalid_response",
                                 message: "The upstream (\(providerKind)) answered with an embeddings body Tollgate could not read.")
            return (502, Array(e.openAIBody.utf8))
        }
        let counted = Usage(promptTokens: result.tokens ?? input.estimatedTokens, completionTokens: 0, cachedTokens: 0)
        usage = counted
        return (200, OpenAIEmbeddingsWriter.body(vectors: result.vectors, model: model, promptTokens: counted.promptTokens, base64: input.base64))
    }

    /// Google's `{"error":{"message"}}` or AWS's `{"message"}` / `{"Message"}`.
    static func errorMessage(_ object: Any?) -> String? {
        guard let o = object as? [String: Any] else { return nil }
        return (o["error"] as? [String: Any])?["message"] as? String ?? o["message"] as? String ?? o["Message"] as? String
    }

    /// A JSON array of numbers as doubles (JSONSerialization gives NSNumber-backed values).
    static func doubles(_ value: Any?) -> [Double]? {
        guard let list = value as? [Any] else { return nil }
        var out = [Double]()
        out.reserveCapacity(list.count)
        for v in list {
            guard let d = (v as? NSNumber)?.doubleValue else { return nil }
            out.append(d)
        }
        return out
    }
}
