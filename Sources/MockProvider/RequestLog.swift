import Synchronization
import TollgateCore

/// The last requests the mock received, for tests that assert what a gateway forwarded
/// (`GET /mock/requests`, cleared by `DELETE /mock/requests`). Shared by every event loop.
final class RequestLog: Sendable {
    struct Entry: Sendable {
        var method: String
        var path: String
        var headers: [(String, String)]
        var body: String
    }

    static let capacity = 200
    private let entries = Mutex<[Entry]>([])

    func append(_ entry: Entry) {
        entries.withLock { list in
            if list.count >= Self.capacity { list.removeFirst(list.count - Self.capacity + 1) }
            list.append(entry)
        }
    }

    func clear() {
        entries.withLock { $0.removeAll() }
    }

    var json: String {
        let list = entries.withLock { $0 }
        return "[" + list.map { e in
            "{\"method\":" + JSONWriter.quoted(e.method) + ",\"path\":" + JSONWriter.quoted(e.path)
                + ",\"headers\":[" + e.headers.map { "[" + JSONWriter.quoted($0.0) + "," + JSONWriter.quoted($0.1) + "]" }.joined(separator: ",")
                + "],\"body\":" + JSONWriter.quoted(e.body) + "}"
        }.joined(separator: ",") + "]"
    }
}
