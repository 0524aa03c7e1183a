import NIOCore
import NIOHTTP1

/// Two translations in a row: the upstream's format → OpenAI Chat Completions (`first`) →
/// the client's front (`second`). This is how the Anthropic front reaches providers whose
/// adapters speak only the OpenAI shape (Gemini, Vertex, Bedrock): every provider needs one
/// translator, not one per front.
///
/// `first` must emit OpenAI's usage chunk (it is built with `includeUsage: true`) so that
/// `second` sees the token counts; `second`'s usage is what the client is charged, falling
/// back to `first`'s when the stream broke before the usage chunk.
final class TranslatorChain: ResponseTranslator {
    private let first: any ResponseTranslator
    private let second: any ResponseTranslator

    init(_ first: any ResponseTranslator, then second: any ResponseTranslator) {
        self.first = first
        self.second = second
    }

    var usage: Usage? { second.usage ?? first.usage }
    var streamFailure: String? { first.streamFailure ?? second.streamFailure }

    func mode(status: Int, headers: HTTPHeaders) -> TranslationMode {
        switch first.mode(status: status, headers: headers) {
        case .stream(let contentType):
            var intermediate = HTTPHeaders()
            intermediate.add(name: "content-type", value: contentType)
            return second.mode(status: status, headers: intermediate)
        case .buffered, .passthrough:
            // What the first translator would pass through is in the middle format, which is
            // not the client's: the whole body goes through both.
            return .buffered
        }
    }

    func translateChunk(_ buffer: ByteBuffer) -> [UInt8] {
        let middle = first.translateChunk(buffer)
        return middle.isEmpty ? [] : second.translateChunk(ByteBuffer(bytes: middle))
    }

    func finishStream() -> [UInt8] {
        let middle = first.finishStream()
        var out = middle.isEmpty ? [] : second.translateChunk(ByteBuffer(bytes: middle))
        out += second.finishStream()
        return out
    }

    func translateWhole(status: Int, body: [UInt8]) -> (status: Int, body: [UInt8]) {
        let middle = first.translateWhole(status: status, body: body)
        return second.translateWhole(status: middle.status, body: middle.body)
    }
}
