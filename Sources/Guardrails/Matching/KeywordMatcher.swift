/// Multi-pattern matcher over UTF-8 bytes (Aho–Corasick compiled to a DFA), ASCII
/// case-insensitive, for blocklists with many thousands of entries: one table lookup per
/// input byte however many patterns there are.
///
/// Why a DFA with byte classes: a full 256-column table costs 1 KiB per trie node, which at
/// 10k+ entries is hundreds of MB. Bytes that occur in no pattern all behave alike, so the
/// columns are the distinct (lower-cased) pattern bytes plus one "other" class; a blocklist
/// of English words needs ~40 columns.
public struct KeywordMatcher: Sendable {
    /// The patterns as given (lower-cased ASCII), indexed by `Match.pattern`.
    public let patterns: [[UInt8]]
    private let classOf: [UInt8]          // byte → column
    private let classCount: Int
    private let delta: [Int32]            // state * classCount + class → next state
    private let outputPattern: [Int32]    // pattern ending exactly at this state, or -1
    private let outputLink: [Int32]       // next state on the suffix chain with an output, or -1
    private let patternLength: [Int32]    // pattern index → its length

    /// One occurrence: which pattern and where in the scanned bytes.
    public struct Match: Sendable, Equatable {
        public var pattern: Int
        public var range: Range<Int>
    }

    /// Builds the automaton. Empty patterns are ignored; duplicates report the first index.
    public init<S: Sequence>(_ patterns: S) where S.Element == [UInt8] {
        // Patterns fold like the text they are matched against (`FoldedText`).
        let lowered = patterns.map { FoldedText.fold($0).map(Self.lower) }
        self.patterns = lowered
        var classOf = [UInt8](repeating: 0, count: 256)
        var next: UInt8 = 1
        for p in lowered {
            for b in p where classOf[Int(b)] == 0 {
                classOf[Int(b)] = next
                next = next &+ 1
                precondition(next != 0, "more than 255 distinct pattern bytes")
            }
        }
        // Upper-case ASCII shares the column of its lower-case letter.
        for b in UInt8(ascii: "A")...UInt8(ascii: "Z") { classOf[Int(b)] = classOf[Int(b | 0x20)] }
        let classes = Int(next)
        // Trie with dense rows (the rows become the DFA in place).
        var delta = [Int32](repeating: -1, count: classes)
        var outputPattern: [Int32] = [-1]
        for (index, p) in lowered.enumerated() where !p.isEmpty {
            var state = 0
            for b in p {
                let slot = state * classes + Int(classOf[Int(b)])
                if delta[slot] < 0 {
                    delta[slot] = Int32(outputPattern.count)
                    outputPattern.append(-1)
                    delta.append(contentsOf: repeatElement(-1, count: classes))
                }
                state = Int(delta[slot])
            }
            if outputPattern[state] < 0 { outputPattern[state] = Int32(index) }
        }
        let stateCount = outputPattern.count
        var fail = [Int32](repeating: 0, count: stateCount)
        var outputLink = [Int32](repeating: -1, count: stateCount)
        // Breadth-first: a state's failure target is always shallower, hence already final.
        var queue: [Int32] = []
        queue.reserveCapacity(stateCount)
        for c in 0..<classes {
            if delta[c] < 0 {
                delta[c] = 0
            } else {
                queue.append(delta[c])
            }
        }
        var head = 0
        while head < queue.count {
            let s = Int(queue[head])
            head += 1
            let f = Int(fail[s])
            outputLink[s] = outputPattern[f] >= 0 ? Int32(f) : outputLink[f]
            for c in 0..<classes {
                let slot = s * classes + c
                let t = delta[slot]
                if t < 0 {
                    delta[slot] = delta[f * classes + c]
                } else {
                    fail[Int(t)] = delta[f * classes + c]
                    queue.append(t)
                }
            }
        }
        self.classOf = classOf
        self.classCount = classes
        self.delta = delta
        self.outputPattern = outputPattern
        self.outputLink = outputLink
        self.patternLength = lowered.map { Int32(truncatingIfNeeded: $0.count) }
    }

    public init(strings: [String]) {
        self.init(strings.map { Array($0.utf8) })
    }

    /// Number of automaton states (a size measure for tests and logs).
    public var stateCount: Int { outputPattern.count }

    /// The automaton's tables as buffer pointers, for callers that feed it bytes they produce
    /// on the fly (the injection check folds ASCII text while it walks, without a copy).
    struct Automaton {
        let delta: UnsafeBufferPointer<Int32>
        let classOf: UnsafeBufferPointer<UInt8>
        let classCount: Int
        let outputPattern: UnsafeBufferPointer<Int32>
        let outputLink: UnsafeBufferPointer<Int32>
        let patternLength: UnsafeBufferPointer<Int32>

        /// The state after reading `byte` in `state`.
        @inline(__always)
        func next(_ state: Int, _ byte: UInt8) -> Int {
            Int(delta[state &* classCount &+ Int(classOf[Int(byte)])])
        }

        /// The first state with an output on `state`'s suffix chain (itself included), or -1.
        @inline(__always)
        func firstOutput(_ state: Int) -> Int {
            outputPattern[state] >= 0 ? state : Int(outputLink[state])
        }
    }

    /// Runs `body` with the automaton; nil-free even for an empty pattern set (one state).
    func withAutomaton<R>(_ body: (Automaton) -> R) -> R {
        delta.withUnsafeBufferPointer { delta in
            classOf.withUnsafeBufferPointer { classOf in
                outputPattern.withUnsafeBufferPointer { outputPattern in
                    outputLink.withUnsafeBufferPointer { outputLink in
                        patternLength.withUnsafeBufferPointer { patternLength in
                            body(Automaton(delta: delta, classOf: classOf, classCount: classCount, outputPattern: outputPattern,
                                           outputLink: outputLink, patternLength: patternLength))
                        }
                    }
                }
            }
        }
    }

    /// Calls `body` for every occurrence of every pattern, in order of end offset.
    /// With `wholeWord`, a match counts only when the bytes on both sides are not word bytes
    /// (ASCII letters, digits, `_`, or any non-ASCII byte, so `café` is one word).
    public func forEachMatch(in bytes: UnsafeBufferPointer<UInt8>, wholeWord: Bool, _ body: (Match) -> Void) {
        walk(bytes, wholeWord: wholeWord, firstPerEnd: false) { p, start, end in body(Match(pattern: p, range: start..<end)) }
    }

    /// Like `forEachMatch`, but reports at most one match per end offset (the longest that
    /// passes the `wholeWord` test) and folds a match that overlaps the previous reported one
    /// into it, so `body` sees disjoint ranges in order. What a check needs to block or redact:
    /// a deeply overlapping blocklist (`a`, `aa`, `aaa`, …) over `aaaa…` costs one report per
    /// run instead of one per pattern per byte.
    public func forEachDisjointMatch(in bytes: UnsafeBufferPointer<UInt8>, wholeWord: Bool, _ body: (Match) -> Void) {
        var pending: Match?
        walk(bytes, wholeWord: wholeWord, firstPerEnd: true) { p, start, end in
            if var current = pending, start < current.range.upperBound {
                current.range = min(start, current.range.lowerBound)..<end
                pending = current
            } else {
                if let current = pending { body(current) }
                pending = Match(pattern: p, range: start..<end)
            }
        }
        if let current = pending { body(current) }
    }

    /// The one DFA walk behind both: every accepted match (pattern, start, end) in order of
    /// end offset, longest first on each end; with `firstPerEnd` only the first accepted one
    /// per end offset. Bytes that leave the automaton in its root state (no pattern in
    /// progress, nothing to report) cost one table load and a compare.
    @inline(__always)
    private func walk(_ bytes: UnsafeBufferPointer<UInt8>, wholeWord: Bool, firstPerEnd: Bool,
                      _ body: (_ pattern: Int, _ start: Int, _ end: Int) -> Void) {
        guard stateCount > 1 else { return }
        withAutomaton { a in
            var state = 0
            for i in 0..<bytes.count {
                state = a.next(state, bytes[i])
                var out = a.firstOutput(state)
                while out >= 0 {
                    let p = Int(a.outputPattern[out])
                    let start = i + 1 - Int(a.patternLength[p])
                    if !wholeWord || Self.isBoundary(bytes, start, i + 1) {
                        body(p, start, i + 1)
                        if firstPerEnd { break }
                    }
                    out = Int(a.outputLink[out])
                }
            }
        }
    }

    /// Every match, collected (convenience for tests and small inputs).
    public func matches(in bytes: [UInt8], wholeWord: Bool = false) -> [Match] {
        var out: [Match] = []
        bytes.withUnsafeBufferPointer { buffer in
            forEachMatch(in: buffer, wholeWord: wholeWord) { out.append($0) }
        }
        return out
    }

    @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 {
        b >= 0x41 && b <= 0x5A ? b | 0x20 : b
    }

    @inline(__always)
    static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b == 0x5F || b >= 0x80
    }

    @inline(__always)
    static func isBoundary(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        // A pattern that itself starts/ends with a non-word byte needs no boundary on that side.
        let startOK = start == 0 || !isWordByte(bytes[start - 1]) || !isWordByte(bytes[start])
        let endOK = end == bytes.count || !isWordByte(bytes[end]) || !isWordByte(bytes[end - 1])
        return startOK && endOK
    }
}
