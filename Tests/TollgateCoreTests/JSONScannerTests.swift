import Foundation
import Testing
@testable import TollgateCore

@Suite struct JSONScannerTests {
    private func valid(_ s: String) -> Bool {
        Array(s.utf8).withUnsafeBytes { raw in (try? JSONScanner.validate(raw)) != nil }
    }

    private func validBytes(_ b: [UInt8]) -> Bool {
        b.withUnsafeBytes { raw in (try? JSONScanner.validate(raw)) != nil }
    }

    @Test(arguments: [
        "{}", "[]", "0", "-0", "1.5e10", "-1E-2", "\"\"", "true", "false", "null",
        "{\"a\":[1,2,{\"b\":null}]}", " \t\n{ \"a\" : \"x\" } ", "\"\\u00e9\\uD83D\\uDE00\\n\\\\\\/\"",
        "[\"ünïcødé ✓ 😀\"]", "1e+5", "[[[[]]]]",
    ])
    func accepts(_ doc: String) {
        #expect(valid(doc), "\(doc)")
    }

    @Test(arguments: [
        "", " ", "[1,]", "{\"a\":1,}", "{\"a\":01}", "\"\\u00\"", "\"\\x\"", "\"a\tb\"", "1e", "-", ".5", "1.",
        "[1 2]", "{\"a\" 1}", "{a:1}", "'x'", "NaN", "Infinity", "tru", "nul", "[", "{", "\"abc", "{} {}",
        "\"\\uD800\"", "\"\\uDC00\"", "\"\\uD800\\u0041\"", "// c\n{}", "{\"a\":1}x", "+1",
    ])
    func rejects(_ doc: String) {
        #expect(!valid(doc), "\(doc)")
    }

    @Test func rejectsInvalidUTF8AndBOM() {
        #expect(!validBytes([0x22, 0xC0, 0xAF, 0x22]), "overlong")
        #expect(!validBytes([0x22, 0xE2, 0x82, 0x22]), "truncated")
        #expect(!validBytes([0x22, 0xED, 0xA0, 0x80, 0x22]), "UTF-8 encoded surrogate")
        #expect(!validBytes([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]), "above U+10FFFF")
        #expect(!validBytes([0x22, 0xFF, 0x22]))
        #expect(!validBytes([0xEF, 0xBB, 0xBF, 0x7B, 0x7D]), "BOM")
        #expect(validBytes([0x22, 0xF0, 0x9F, 0x98, 0x80, 0x22]))
    }

    @Test func depthLimit() {
        #expect(valid(String(repeating: "[", count: 128) + String(repeating: "]", count: 128)))
        #expect(!valid(String(repeating: "[", count: 129) + String(repeating: "]", count: 129)))
        // Far too deep must fail cleanly, not overflow the stack.
        #expect(!valid(String(repeating: "[", count: 100_000)))
    }

    @Test func indexesTopLevelMembers() throws {
        let doc = Array(#"{"model" : "gpt-4o", "stream":true, "n":3, "messages":[{"role":"user"}], "m\u006fdel2": "x", "stream_options":{"include_usage":false}}"#.utf8)
        let index = try JSONScanner.scanObject(doc)
        try doc.withUnsafeBytes { raw in
            #expect(index.members.count == 6)
            #expect(index.string("model", in: raw) == "gpt-4o")
            #expect(index.bool("stream", in: raw) == true)
            #expect(index.int("n", in: raw) == 3)
            #expect(index.member("messages", in: raw)?.kind == .array)
            #expect(index.string("model2", in: raw) == "x", "escaped key compared decoded")
            let model = try #require(index.member("model", in: raw))
            #expect(String(decoding: doc[model.value], as: UTF8.self) == "\"gpt-4o\"")
            let opts = try #require(index.member("stream_options", in: raw))
            let nested = try JSONScanner.scanObject(raw, in: opts.value)
            #expect(nested.bool("include_usage", in: raw) == false)
        }
    }

    @Test func lastDuplicateKeyWins() throws {
        let doc = Array(#"{"model":"a","model":"b"}"#.utf8)
        let index = try JSONScanner.scanObject(doc)
        #expect(doc.withUnsafeBytes { index.string("model", in: $0) } == "b")
    }

    @Test func topLevelMustBeAnObject() {
        #expect(throws: JSONScanError.self) { try JSONScanner.scanObject(Array("[1]".utf8)) }
        do {
            _ = try JSONScanner.scanObject(Array("{\"a\":}".utf8))
        } catch {
            #expect(error.offset == 5)
            #expect(error.description.contains("unexpected character '}'"))
        }
    }

    @Test func decodesEveryEscape() {
        let lit = Array(#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00""#.utf8)
        #expect(JSONScanner.decodeString(lit, 0..<lit.count) == "a\"b\\c/d\u{8}\u{c}\n\r\té😀")
        let bad = Array(#""\ud83d""#.utf8)
        #expect(JSONScanner.decodeString(bad, 0..<bad.count) == nil)
    }

    @Test func writerRoundTripsThroughFoundation() throws {
        let samples = ["plain", "quote \" backslash \\ slash /", "ctrl \u{0}\u{1}\u{1f} \n\r\t\u{8}\u{c}", "ünïcødé ✓ 😀", ""]
        for s in samples {
            let quoted = JSONWriter.quoted(s)
            let parsed = try JSONSerialization.jsonObject(with: Data("[\(quoted)]".utf8)) as? [String]
            #expect(parsed == [s])
            #expect(valid(quoted))
            let bytes = Array(quoted.utf8)
            #expect(JSONScanner.decodeString(bytes, 0..<bytes.count) == s)
        }
    }

    @Test func replacingSplicesRanges() {
        let doc = Array(#"{"model":"a","x":1,"y":"bb"}"#.utf8)
        let out = doc.withUnsafeBytes { raw in
            JSONWriter.replacing(raw, [(9..<12, Array("\"longer-name\"".utf8)), (23..<27, Array("\"c\"".utf8))])
        }
        #expect(String(decoding: out, as: UTF8.self) == #"{"model":"longer-name","x":1,"y":"c"}"#)
    }

    /// Random documents: everything valid is accepted and agrees with Foundation; single-byte
    /// mutations never crash and, where Foundation is strict too, agree on validity.
    @Test func differentialAgainstFoundation() throws {
        var rng = SystemRandomNumberGenerator()
        var seedState: UInt64 = 0x5EED
        func next() -> UInt64 {
            seedState = seedState &* 6364136223846793005 &+ 1442695040888963407
            return seedState >> 33
        }
        func value(_ depth: Int) -> String {
            switch next() % (depth > 3 ? 4 : 6) {
            case 0: return String(Int(next() % 2000) - 1000)
            case 1: return ["\"x\"", "\"é\\n\\u0041\"", "\"😀 \\\"q\\\"\"", "\"\""][Int(next() % 4)]
            case 2: return ["true", "false", "null", "1.25e-3"][Int(next() % 4)]
            case 3: return "\"s\(next() % 100)\""
            case 4: return "[" + (0..<Int(next() % 4)).map { _ in value(depth + 1) }.joined(separator: ",") + "]"
            default: return "{" + (0..<Int(next() % 4)).map { i in "\"k\(i)\":" + value(depth + 1) }.joined(separator: ", ") + "}"
            }
        }
        _ = rng.next()
        for _ in 0..<1500 {
            let doc = "{\"model\":\"m\",\"v\":" + value(0) + "}"
            let bytes = Array(doc.utf8)
            let index = try JSONScanner.scanObject(bytes)
            let foundation = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
            #expect(index.members.count == foundation?.count)
            #expect(bytes.withUnsafeBytes { index.string("model", in: $0) } == "m")
            // Mutate one byte: must never crash; Foundation rejecting ⇒ we reject.
            var mutated = bytes
            let at = Int(next() % UInt64(mutated.count))
            mutated[at] = [UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "]"), 0x00, UInt8(ascii: ","), UInt8(ascii: "\\")][Int(next() % 6)]
            let ours = validBytes(mutated)
            let theirs = (try? JSONSerialization.jsonObject(with: Data(mutated), options: [.fragmentsAllowed])) != nil
            if !theirs { #expect(!ours, "accepted what Foundation rejects: \(String(decoding: mutated, as: UTF8.self))") }
        }
    }
}
