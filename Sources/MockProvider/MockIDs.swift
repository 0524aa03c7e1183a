import Synchronization

/// Ids for replies (`chatcmpl-…`, `req_…`): a random prefix drawn once per process, so ids
/// stay unique across restarts of the mock, then a counter shared by all event loops.
final class MockIDs: Sendable {
    private let counter = Atomic<UInt64>(0)
    let prefix: String

    init() {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var rng = SystemRandomNumberGenerator()
        prefix = String((0..<8).map { _ in alphabet[Int(rng.next(upperBound: UInt64(alphabet.count)))] })
    }

    /// A new id: `kind` (e.g. `chatcmpl-`), the process prefix, the counter in base 36.
    func next(_ kind: StaticString) -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        return "\(kind)\(prefix)\(String(n, radix: 36))"
    }
}
