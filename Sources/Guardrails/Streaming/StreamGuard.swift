/// Guardrails over streamed output: a pure state machine (no I/O, no clock) fed with text
/// deltas, answering with the text that is safe to release now.
///
/// It holds back a tail window as long as the longest match any check can produce, so a
/// match split across chunks is still seen whole, and it never cuts inside a finding: what
/// it releases has already been redacted and can never become part of a later match. Text
/// only leaves through `feed`/`finish`, so nothing unredacted is ever released.
///
/// Caveat: checks with unbounded matches (PEM blocks, custom regexes) get a bounded window
/// (`maxWindow`); a match longer than that is caught only in the part that fits.
public struct StreamGuard: Sendable {
    /// What the caller should do after a `feed` or `finish`.
    public enum Action: Sendable, Equatable {
        /// Send `text` (possibly empty) to the client; `findings` are the ones that became
        /// final with it (ranges are absolute offsets in the original stream).
        case release(text: [UInt8], findings: [GuardrailFinding])
        /// Stop the stream: end it with an error event naming this finding's policy and rule.
        case block(GuardrailFinding)
    }

    public static let maxWindow = 2048
    /// Already released bytes kept as left context for detectors (e.g. `aws … <secret>`).
    static let contextBytes = 128

    let engine: GuardrailEngine
    let direction: GuardrailDirection
    /// Bytes held back after each feed.
    public let window: Int
    /// New held bytes that warrant a scan before the window fills.
    static let scanStride = 64
    /// `pending.count` at the last scan.
    private var scannedAt = 0
    private var context: [UInt8] = []
    private var pending: [UInt8] = []
    /// Original stream offset of `pending[0]`.
    private var offset = 0
    private var blocked: GuardrailFinding?

    public init(engine: GuardrailEngine, direction: GuardrailDirection = .response) {
        self.engine = engine
        self.direction = direction
        self.window = min(engine.maxMatchLength(for: direction) ?? Self.maxWindow, Self.maxWindow)
    }

    /// Adds a delta; returns what may be released now.
    public mutating func feed(_ delta: [UInt8]) -> Action {
        if let blocked { return .block(blocked) }
        pending.append(contentsOf: delta)
        return step(final: false)
    }

    public mutating func feed(_ delta: String) -> Action {
        feed(Array(delta.utf8))
    }

    /// The stream ended: releases (redacted) whatever is still held.
    public mutating func finish() -> Action {
        if let blocked { return .block(blocked) }
        return step(final: true)
    }

    private mutating func step(final: Bool) -> Action {
        // Nothing can leave before the window fills, so a scan per token would mostly repeat
        // the next one: scan when `scanStride` new bytes arrived (a block is still caught
        // before any blocked text is released, and early enough to stop the upstream), when
        // the window overflows, and at the end.
        if !final && pending.count <= window && pending.count - scannedAt < Self.scanStride {
            return .release(text: [], findings: [])
        }
        let scanned = context + pending
        let result = engine.scan(scanned, direction: direction)
        let base = context.count
        if result.verdict == .block, var finding = result.blockingFinding {
            finding.range = (finding.range.lowerBound - base + offset)..<(finding.range.upperBound - base + offset)
            blocked = finding
            pending.removeAll()
            return .block(finding)
        }
        // Release up to the window, but never through a finding that may still grow. Right to
        // left, so a finding that moves the cut exposes the ones it overlaps.
        var cut = final ? pending.count : max(0, pending.count - window)
        if !final {
            for f in result.findings.reversed() where f.range.lowerBound >= base {
                let lo = f.range.lowerBound - base, hi = f.range.upperBound - base
                // Hold a growing finding back only while it fits the window twice over: an
                // unbounded one (a PEM block, a regex) is then released redacted piece by
                // piece instead of being held, and rescanned, without limit.
                if hi > cut && lo < cut && pending.count - lo <= 2 * window + Self.scanStride { cut = lo }
            }
            // Never split a UTF-8 sequence.
            while cut > 0, cut < pending.count, pending[cut] & 0xC0 == 0x80 { cut -= 1 }
        }
        scannedAt = pending.count
        guard cut > 0 else { return .release(text: [], findings: []) }
        var spans: [Redactor.Span] = []
        var released: [GuardrailFinding] = []
        for f in result.findings where f.range.upperBound > base {
            // A match that starts in already released text, or that the cut goes through
            // (only possible when it is longer than the window), is redacted over the part
            // released now.
            let lo = max(0, f.range.lowerBound - base)
            let hi = min(cut, f.range.upperBound - base)
            guard lo < hi else { continue }
            var g = f
            g.range = (lo + offset)..<(hi + offset)
            released.append(g)
            if f.effectiveAction == .redact {
                spans.append(Redactor.Span(range: lo..<hi, type: f.type))
            }
        }
        let text = pending.withUnsafeBufferPointer { Redactor.apply(spans, to: UnsafeBufferPointer(rebasing: $0[0..<cut])) }
        // Left context is the original text: detectors must see what the user would have.
        context.append(contentsOf: pending[0..<cut])
        if context.count > Self.contextBytes { context.removeFirst(context.count - Self.contextBytes) }
        pending.removeFirst(cut)
        scannedAt = pending.count
        offset += cut
        return .release(text: text, findings: released)
    }
}
