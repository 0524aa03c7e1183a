import Guardrails
import Testing

@Suite struct KeywordMatcherTests {
    @Test func findsOverlappingPatternsCaseInsensitively() {
        let m = KeywordMatcher(strings: ["he", "she", "his", "hers"])
        let found = m.matches(in: Array("uSHErs".utf8)).map { ($0.pattern, $0.range) }
        #expect(found.map(\.0) == [1, 0, 3])
        #expect(found.map(\.1) == [1..<4, 2..<4, 2..<6])
    }

    @Test func wholeWordRequiresBoundaries() {
        let m = KeywordMatcher(strings: ["secret", "top secret"])
        #expect(m.matches(in: Array("secretary".utf8), wholeWord: true).isEmpty)
        #expect(m.matches(in: Array("a secret.".utf8), wholeWord: true).map(\.range) == [2..<8])
        #expect(m.matches(in: Array("TOP SECRET plans".utf8), wholeWord: true).map(\.pattern) == [1, 0])
        #expect(m.matches(in: Array("xsecret".utf8), wholeWord: false).count == 1)
    }

    @Test func tenThousandEntriesStayCorrectAndLinear() {
        var words: [String] = []
        for i in 0..<12_000 { words.append("term\(i)x") }
        let m = KeywordMatcher(strings: words)
        let text = Array("nothing here term42x and TERM11999X but not term12000x or term5".utf8)
        let found = m.matches(in: text, wholeWord: true)
        #expect(found.map(\.pattern) == [42, 11_999])
        #expect(m.stateCount > 12_000)
        // 1 MB scan with 12k patterns must take well under a second (one lookup per byte).
        let big = [UInt8](repeating: UInt8(ascii: "t"), count: 1 << 20)
        let clock = ContinuousClock()
        let elapsed = clock.measure { big.withUnsafeBufferPointer { b in m.forEachMatch(in: b, wholeWord: false) { _ in } } }
        #expect(elapsed < .seconds(1))
    }
}
