import Foundation
import NIOCore
import Testing
@testable import MockProvider

@Suite struct JSONWritingTests {
    @Test func stringsRoundTripThroughAStrictParser() throws {
        let samples = ["plain", "quote \" backslash \\ slash /", "controls \n\r\t\u{08}\u{0C}\u{01}\u{1F}", "ünïcødé ✓ 🎉", ""]
        for s in samples {
            var b = ByteBuffer()
            b.writeStaticString("[")
            b.writeJSONString(s)
            b.writeStaticString("]")
            let parsed = try JSONSerialization.jsonObject(with: Data(b.readableBytesView)) as? [String]
            #expect(parsed == [s])
        }
    }

    @Test func base64MatchesFoundation() {
        for count in 0..<10 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 * 37 + 5) }
            var b = ByteBuffer()
            Base64.write(bytes, into: &b)
            #expect(String(buffer: b) == Data(bytes).base64EncodedString())
            #expect(Base64.decode(String(buffer: b)) == bytes)
        }
        #expect(Base64.decode("eyJhbGciOiJSUzI1NiJ9") == Array(#"{"alg":"RS256"}"#.utf8))
        #expect(Base64.decode("not base64!") == nil)
    }

    @Test func percentDecoding() {
        #expect(PercentDecoding.decode("gemini-2.5-flash%2Becho") == "gemini-2.5-flash+echo")
        #expect(PercentDecoding.decode("a+b", plusIsSpace: true) == "a b")
        #expect(PercentDecoding.decode("bad%2") == nil)
    }
}

@Suite struct JSONViewTests {
    @Test func walksArrayElementsWithNestingAndTrickyStrings() throws {
        let doc = #"{"a":[ 1 , "x,]\"y" ,{"k":[1,2]}, [3,[4]] ,true,null,-2.5e3 ], "e":[], "s":"str"}"#
        let bytes = Array(doc.utf8)
        try bytes.withUnsafeBytes { raw in
            let view = JSONView(bytes: raw)
            let root = try view.root()
            let elements = view.elements(view.member("a", of: root))
            #expect(elements.map(\.kind) == [.number, .string, .object, .array, .bool, .null, .number])
            #expect(view.int(elements[0]) == 1)
            #expect(view.string(elements[1]) == "x,]\"y")
            #expect(view.elements(view.member("k", of: view.object(elements[2]))).count == 2)
            #expect(String(decoding: raw[elements[6].range], as: UTF8.self) == "-2.5e3")
            #expect(view.elements(view.member("e", of: root)).isEmpty)
            #expect(view.elements(view.member("s", of: root)).isEmpty)
            #expect(view.int(view.member("s", of: root)) == nil)
        }
    }
}
