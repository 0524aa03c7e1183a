import FuzzSupport
import TollgateCore

/// EventStreamDecoder (Bedrock's ConverseStream framing): never traps; the messages and the
/// error `decode` reports do not depend on how the bytes are cut into reads; `feed` agrees
/// with `decode` on a clean stream; a decoded message re-encodes and decodes to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEventStream(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let whole = decode([input.payload[...]])
    let split = decode(input.pieces)
    fuzzCheck(whole.messages == split.messages, "messages depend on the read boundaries")
    fuzzCheck(whole.error == split.error, "the error depends on the read boundaries: \(String(describing: whole.error)) vs \(String(describing: split.error))")
    for m in whole.messages {
        let names = m.headers.keys.sorted()
        guard names.allSatisfy({ $0.utf8.count <= 255 }), m.headers.values.allSatisfy({ $0.utf8.count <= 0xFFFF }),
              m.payload.count < 1 << 20 else { continue }
        let frame = EventStreamDecoder.encode(headers: names.map { ($0, m.headers[$0]!) }, payload: m.payload)
        var d = EventStreamDecoder()
        let again = try? d.feed(frame)
        fuzzCheck(again == [m], "a decoded message does not re-encode to itself")
    }
    return 0
}

func decode(_ pieces: [ArraySlice<UInt8>]) -> (messages: [EventStreamDecoder.Message], error: EventStreamDecoder.DecodeError?) {
    var decoder = EventStreamDecoder()
    var messages: [EventStreamDecoder.Message] = []
    var pending = 0
    for piece in pieces {
        let d = decoder.decode(piece)
        messages += d.messages
        if let error = d.error { return (messages, error) }
        fuzzCheck(decoder.pendingByteCount < pending + piece.count + 1, "the decoder holds more than it was given")
        pending = decoder.pendingByteCount
    }
    // `feed` agrees with `decode` on a stream without errors.
    var feeder = EventStreamDecoder()
    var fed: [EventStreamDecoder.Message] = []
    for piece in pieces {
        guard let m = try? feeder.feed(piece) else {
            fuzzCheck(false, "feed throws where decode does not")
            break
        }
        fed += m
    }
    fuzzCheck(fed == messages, "feed and decode disagree")
    return (messages, nil)
}
