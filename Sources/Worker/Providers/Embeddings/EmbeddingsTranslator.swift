import Config
import NIOCore
import NIOHTTP1
import TollgateCore

/// A provider's embeddings response → OpenAI's embeddings list. The provider-specific part is
/// `extract`: from the scanned JSON body (and the response headers, where Bedrock puts the
/// token count) to the vectors and, when the provider reports it, the token count; without a
/// count the usage is the request's estimate. Errors keep the upstream's message in OpenAI's
/// error shape.
final class EmbeddingsTranslator: ResponseTranslator {
    typealias Extract = (_ body: JSONObjectView, _ headers: HTTPHeaders) -> (vectors: [[Double]], tokens: Int?)?

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
        let result: (vectors: [[Double]], tokens: Int?)? = body.withUnsafeBytes { raw in
            JSONObjectView(document: raw).flatMap { extract($0, headers) }
        }
        guard (200..<300).contains(status) else {
            let message = body.withUnsafeBytes { raw in JSONObjectView(document: raw).flatMap { UpstreamError.message(raw, $0.index) } }
            let e = GatewayError(status: status, type: status >= 500 ? "server_error" : "invalid_request_error", code: nil,
                                 message: "Upstream (\(providerKind)): " + (message ?? "HTTP \(status)"))
            return (status, Array(e.openAIBody.utf8))
        }
        guard let result, result.vectors.count == input.texts.count else {
            let e = GatewayError(status: 502, type: "server_error", code: "upstream_invalid_response",
                                 message: "The upstream (\(providerKind)) answered with an embeddings body Tollgate could not read.")
            return (502, Array(e.openAIBody.utf8))
        }
        let counted = Usage(promptTokens: result.tokens ?? input.estimatedTokens, completionTokens: 0, cachedTokens: 0)
        usage = counted
        return (200, OpenAIEmbeddingsWriter.body(vectors: result.vectors, model: model, promptTokens: counted.promptTokens, base64: input.base64))
    }

    /// A JSON array of numbers as doubles; nil when `span` is not an array of numbers only.
    static func doubles(_ raw: UnsafeRawBufferPointer, _ span: JSONSpan?) -> [Double]? {
        guard let span, let list = JSONMembers.array(raw, span) else { return nil }
        var out = [Double]()
        out.reserveCapacity(list.count)
        for v in list {
            guard let d = JSONMembers.double(raw, JSONSpan(v)) else { return nil }
            out.append(d)
        }
        return out
    }
}
