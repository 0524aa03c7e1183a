import NIOCore

/// The mock's embeddings: deterministic unit vectors seeded by a hash of the input (FNV-1a),
/// expanded with SplitMix64, so equal inputs embed equally and different ones differ.
enum EmbeddingVector {
    static let seedBasis: UInt64 = 0xcbf2_9ce4_8422_2325

    /// One FNV-1a step.
    static func mix(_ seed: UInt64, _ value: UInt64) -> UInt64 {
        (seed ^ value) &* 0x100_0000_01b3
    }

    /// The L2-normalised vector of `dimensions` components for `seed`.
    static func vector(seed: UInt64, dimensions: Int) -> [Float] {
        var state = seed
        var out = [Float](repeating: 0, count: dimensions)
        var norm: Float = 0
        for i in 0..<dimensions {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            // Components in (-1, 1) with four decimals: short numbers in the JSON.
            let v = Float(Int64(bitPattern: z) % 10_000) / 10_000
            out[i] = v
            norm += v * v
        }
        let scale = norm > 0 ? 1 / norm.squareRoot() : 0
        for i in 0..<dimensions { out[i] *= scale }
        return out
    }

    /// `[v0,v1,…]`.
    static func writeFloats(_ vector: [Float], into b: inout ByteBuffer) {
        b.writeStaticString("[")
        for (i, v) in vector.enumerated() {
            if i > 0 { b.writeStaticString(",") }
            b.writeString(String(v))
        }
        b.writeStaticString("]")
    }

    /// The vector as OpenAI's `encoding_format: base64`: little-endian float32s, base64, quoted.
    static func writeBase64(_ vector: [Float], into b: inout ByteBuffer) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(vector.count * 4)
        for v in vector {
            let bits = v.bitPattern.littleEndian
            withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
        }
        b.writeStaticString("\"")
        Base64.write(bytes, into: &b)
        b.writeStaticString("\"")
    }
}

extension EmbeddingVector {
    /// The seed of a text input: FNV-1a over its UTF-8, as the OpenAI endpoint seeds it, so the
    /// same text embeds to the same vector whichever dialect asked.
    static func seed(text: String) -> UInt64 {
        var seed = seedBasis
        for b in text.utf8 { seed = mix(seed, UInt64(b)) }
        return seed
    }
}
