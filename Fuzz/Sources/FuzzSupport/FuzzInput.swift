import CLibFuzzer
import TollgateCore

/// The fuzzer's bytes read as a few choices followed by a payload. Every target starts its
/// input with the same header so one seed layout (`Fuzz/make-corpus.py`) fits all:
///
/// ```
/// selector u8 | chunking u8 | payload…
/// ```
///
/// `selector` picks the variant a target exercises (front, provider, detector set);
/// `chunking` says how a streamed payload is cut into reads.
public struct FuzzInput {
    public let selector: UInt8
    public let chunking: UInt8
    public let payload: [UInt8]

    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        let raw = UnsafeRawBufferPointer(start: data, count: size)
        selector = size > 0 ? raw[0] : 0
        chunking = size > 1 ? raw[1] : 0xFF
        payload = size > 2 ? Array(raw[2...]) : []
    }

    /// Where the payload is cut into reads: whole for 0xFF, else pieces of 1 + chunking % 64
    /// bytes, the size varying with the piece index so splits land everywhere.
    public var cuts: [Int] {
        guard chunking != 0xFF else { return [] }
        var out: [Int] = []
        var at = 0
        var n = 0
        while true {
            at += 1 + (Int(chunking) &+ n * 7) % 64
            guard at < payload.count else { break }
            out.append(at)
            n += 1
        }
        return out
    }

    /// The payload in the pieces `cuts` marks.
    public var pieces: [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var start = 0
        for cut in cuts + [payload.count] {
            out.append(payload[start..<cut])
            start = cut
        }
        return out
    }
}

/// A broken invariant: prints what and aborts, so libFuzzer records the input as a crash.
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    if !condition() {
        print("fuzz invariant broken at \(file):\(line): \(message())")
        fatalError("fuzz invariant broken: \(message())", file: file, line: line)
    }
}

/// Whether `bytes` is one valid JSON document (the strict RFC 8259 scanner of TollgateCore).
public func isValidJSON(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { (try? JSONScanner.validate($0)) != nil }
}

/// Checks that an SSE body is well formed: every event's data lines that look like JSON are
/// valid JSON (or `[DONE]`), and every line is a field, a comment or blank.
public func checkSSE(_ bytes: [UInt8], _ what: @autoclosure () -> String) {
    var lineStart = 0
    for i in bytes.indices where bytes[i] == 0x0A {
        var end = i
        if end > lineStart, bytes[end - 1] == 0x0D { end -= 1 }
        let line = bytes[lineStart..<end]
        lineStart = i + 1
        if line.isEmpty || line.first == UInt8(ascii: ":") { continue }
        if line.starts(with: "data: ".utf8) {
            let data = Array(line.dropFirst(6))
            if data == Array("[DONE]".utf8) { continue }
            fuzzCheck(isValidJSON(data), "\(what()): SSE data is not JSON: \(String(decoding: data, as: UTF8.self))")
        } else {
            fuzzCheck(line.starts(with: "event: ".utf8) || line.starts(with: "id: ".utf8) || line.starts(with: "retry: ".utf8),
                      "\(what()): stray SSE line: \(String(decoding: line, as: UTF8.self))")
        }
    }
}

/// Runs libFuzzer with the process's arguments on `callback` (a target's
/// `LLVMFuzzerTestOneInput`) and returns its exit status.
public func runLibFuzzer(_ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    return LLVMFuzzerRunDriver(&argc, &argv, callback)
}
