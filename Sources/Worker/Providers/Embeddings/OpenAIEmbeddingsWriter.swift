import Foundation
import TollgateCore

/// Writes OpenAI's embeddings list (`{"object":"list","data":[{"object":"embedding",
/// "index":…,"embedding":…}],"model":…,"usage":{…}}`) for vectors another provider computed,
/// as JSON numbers or, for `encoding_format: "base64"`, as base64 of little-endian float32s
/// (exactly what OpenAI sends and its SDKs decode).
enum OpenAIEmbeddingsWriter {
    static func body(vectors: [[Double]], model: String, promptTokens: Int, base64: Bool) -> [UInt8] {
        var out = "{\"object\":\"list\",\"data\":["
        for (i, vector) in vectors.enumerated() {
            if i > 0 { out += "," }
            out += "{\"object\":\"embedding\",\"index\":\(i),\"embedding\":"
            out += base64 ? "\"" + encodeBase64(vector) + "\"" : numbers(vector)
            out += "}"
        }
        out += "],\"model\":" + JSONWriter.quoted(model)
        out += ",\"usage\":{\"prompt_tokens\":\(promptTokens),\"total_tokens\":\(promptTokens)}}"
        return Array(out.utf8)
    }

    static func numbers(_ vector: [Double]) -> String {
        "[" + vector.map { v in v.isFinite ? String(Float(v)) : "0" }.joined(separator: ",") + "]"
    }

    static func encodeBase64(_ vector: [Double]) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(vector.count * 4)
        for v in vector {
            let bits = Float(v).bitPattern.littleEndian
            bytes.append(UInt8(truncatingIfNeeded: bits))
            bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
            bytes.append(UInt8(truncatingIfNeeded: bits >> 16))
            bytes.append(UInt8(truncatingIfNeeded: bits >> 24))
        }
        return Data(bytes).base64EncodedString()
    }
}
