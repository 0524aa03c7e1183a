import FuzzSupport
import Worker

/// SSEParser: never traps; the events do not depend on where reads split the stream; every
/// event's data is made of the stream's bytes (no byte appears from nowhere).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSSE(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let whole = WorkerFuzzing.sseEvents(input.payload, cuts: [])
    let split = WorkerFuzzing.sseEvents(input.payload, cuts: input.cuts)
    fuzzCheck(whole.events.count == split.events.count, "event count depends on the read boundaries")
    for (a, b) in zip(whole.events, split.events) {
        fuzzCheck(a.event == b.event && a.data == b.data, "an event depends on the read boundaries")
    }
    fuzzCheck(whole.atBoundary == split.atBoundary, "isAtBoundary depends on the read boundaries")
    var total = 0
    for e in whole.events {
        total += e.data.count
        fuzzCheck(!e.data.contains(0x0D) || input.payload.contains(0x0D), "data holds a CR the stream never had")
    }
    fuzzCheck(total <= input.payload.count, "events hold more data bytes than the stream")
    return 0
}
