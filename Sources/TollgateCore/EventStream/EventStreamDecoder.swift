/// AWS's `application/vnd.amazon.eventstream` framing (ConverseStream and friends):
///
/// ```
/// total length u32 | headers length u32 | prelude CRC32 u32 | headers | payload | message CRC32 u32
/// header: name length u8 | name | value type u8 | value (type 7 = string: length u16 + bytes)
/// ```
/// All integers big-endian; both CRCs are CRC-32 (IEEE). Frames may be split across reads;
/// a frame with a bad CRC or impossible lengths is a protocol error (the stream cannot be
/// resynchronised, so the caller ends it). A frame is held until complete, so its declared
/// length is checked against `maxMessageBytes` (`limits.max_event_frame_bytes`) from its
/// 12-byte prelude, before any of it is buffered; each byte is looked at a bounded number of
/// times (append, one CRC, one copy out), so decoding is linear however the frames are split.
public struct EventStreamDecoder: Sendable {
    public struct Message: Equatable, Sendable {
        public var headers: [String: String]
        public var payload: [UInt8]
    }

    public enum DecodeError: Error, Equatable, Sendable {
        case preludeChecksum
        case messageChecksum
        case badLength(Int)
        case badHeader
        /// A frame declares more than the configured cap.
        case tooLarge(Int, limit: Int)
    }

    /// Default for `limits.max_event_frame_bytes`.
    public static let defaultMaxMessageBytes = 4 * 1024 * 1024
    /// The wire format's own ceiling (AWS: 16 MiB per message).
    public static let formatMaxMessageBytes = 16 * 1024 * 1024

    public let maxMessageBytes: Int
    private var buffer: [UInt8] = []
    /// The first protocol error; the stream cannot be resynchronised after it.
    private var failed: DecodeError?

    public init(maxMessageBytes: Int = EventStreamDecoder.defaultMaxMessageBytes) {
        self.maxMessageBytes = min(max(16, maxMessageBytes), Self.formatMaxMessageBytes)
    }

    /// What one read decoded: the complete messages, in order, and the protocol error that
    /// ended the stream, if a frame after them was corrupt.
    public struct Decoded: Equatable, Sendable {
        public var messages: [Message]
        public var error: DecodeError?
    }

    /// Decodes the complete frames `bytes` finish. Messages before a corrupt frame are kept
    /// (the upstream did send them), so what is decoded does not depend on how the stream was
    /// cut into reads; after an error every later call reports it again and decodes nothing.
    public mutating func decode(_ bytes: some Sequence<UInt8>) -> Decoded {
        if let failed { return Decoded(messages: [], error: failed) }
        buffer.append(contentsOf: bytes)
        var out: [Message] = []
        var offset = 0
        var error: DecodeError?
        do {
            while buffer.count - offset >= 12 {
                guard let message = try frame(at: offset) else { break }
                out.append(message.message)
                offset += message.length
            }
        } catch let e {
            error = e
            failed = e
        }
        if offset > 0 { buffer.removeFirst(offset) }
        return Decoded(messages: out, error: error)
    }

    /// `decode`, throwing the error instead; the messages decoded before it in the same read
    /// are lost with it, so stream translators should use `decode`.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(DecodeError) -> [Message] {
        let decoded = decode(bytes)
        if let error = decoded.error { throw error }
        return decoded.messages
    }

    /// The bytes of an incomplete frame held for the next read: non-zero when the stream
    /// ends means the upstream cut it mid-frame.
    public var pendingByteCount: Int { buffer.count }

    /// The frame at `offset`, or nil when it is not complete yet.
    private func frame(at offset: Int) throws(DecodeError) -> (message: Message, length: Int)? {
        let total = Int(Self.u32(buffer, offset))
        let headersLength = Int(Self.u32(buffer, offset + 4))
        guard total >= 16, headersLength <= total - 16 else { throw .badLength(total) }
        guard total <= maxMessageBytes else { throw .tooLarge(total, limit: maxMessageBytes) }
        guard CRC32.checksum(buffer[offset..<(offset + 8)]) == Self.u32(buffer, offset + 8) else { throw .preludeChecksum }
        guard buffer.count - offset >= total else { return nil }
        guard CRC32.checksum(buffer[offset..<(offset + total - 4)]) == Self.u32(buffer, offset + total - 4) else { throw .messageChecksum }
        let headers = try Self.headers(buffer[(offset + 12)..<(offset + 12 + headersLength)])
        return (Message(headers: headers, payload: Array(buffer[(offset + 12 + headersLength)..<(offset + total - 4)])), total)
    }

    static func headers(_ bytes: ArraySlice<UInt8>) throws(DecodeError) -> [String: String] {
        var out: [String: String] = [:]
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let nameLength = Int(bytes[i])
            i += 1
            guard i + nameLength + 1 <= bytes.endIndex else { throw .badHeader }
            let name = String(decoding: bytes[i..<(i + nameLength)], as: UTF8.self)
            i += nameLength
            let type = bytes[i]
            i += 1
            switch type {
            case 0, 1: break                                   // bool true / false
            case 2: i += 1                                      // byte
            case 3: i += 2                                      // short
            case 4: i += 4                                      // int
            case 5, 8: i += 8                                   // long, timestamp
            case 9: i += 16                                     // uuid
            case 6, 7:                                          // bytes, string
                guard i + 2 <= bytes.endIndex else { throw .badHeader }
                let length = Int(bytes[i]) << 8 | Int(bytes[i + 1])
                i += 2
                guard i + length <= bytes.endIndex else { throw .badHeader }
                if type == 7 { out[name] = String(decoding: bytes[i..<(i + length)], as: UTF8.self) }
                i += length
            default:
                throw .badHeader
            }
            guard i <= bytes.endIndex else { throw .badHeader }
        }
        return out
    }

    static func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }

    /// One frame with string headers (the mock and the tests build streams with it).
    public static func encode(headers: [(String, String)], payload: [UInt8]) -> [UInt8] {
        var h: [UInt8] = []
        for (name, value) in headers {
            h.append(UInt8(name.utf8.count))
            h += Array(name.utf8)
            h.append(7)
            let v = Array(value.utf8)
            h += [UInt8(v.count >> 8), UInt8(v.count & 0xFF)] + v
        }
        let total = 12 + h.count + payload.count + 4
        var out = be32(UInt32(total)) + be32(UInt32(h.count))
        out += be32(CRC32.checksum(out[...]))
        out += h + payload
        out += be32(CRC32.checksum(out[...]))
        return out
    }

    static func be32(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as the event-stream framing uses.
public enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
