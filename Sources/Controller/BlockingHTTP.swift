import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One blocking HTTP exchange for the controller's credential work (token endpoints, metadata
/// services). The controller runs these on its own queue, never on a worker's event loop, so
/// URLSession's thread hop is fine here.
enum BlockingHTTP {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func send(_ method: String, _ url: String, headers: [(String, String)] = [], body: Data? = nil,
                     timeout: Double) throws -> (status: Int, body: Data) {
        let reply = try exchange(method, url, headers: headers, body: body, timeout: timeout)
        return (reply.status, reply.body)
    }

    struct Reply {
        var status: Int
        /// Lowercased names.
        var headers: [String: String]
        var body: Data
    }

    /// `send`, with the response headers. With `maxBodyBytes`, the answer is read through
    /// `CappedResponseReader`, which stops reading (and fails) as soon as it grows past the
    /// cap, instead of holding all of a hostile or broken peer's body first.
    static func exchange(_ method: String, _ url: String, headers: [(String, String)] = [], body: Data? = nil,
                         timeout: Double, maxBodyBytes: Int? = nil) throws -> Reply {
        guard let u = URL(string: url) else { throw Failure(description: "\(url) is not a URL") }
        var request = URLRequest(url: u, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body
        if let maxBodyBytes {
            let result = CappedResponseReader.exchange(request, maxBodyBytes: maxBodyBytes, timeout: timeout)
            return try result.get()
        }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<Reply, Failure> = .failure(Failure(description: "no answer"))
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error {
                result = .failure(Failure(description: error.localizedDescription))
            } else {
                let http = response as? HTTPURLResponse
                var fields: [String: String] = [:]
                for (name, value) in http?.allHeaderFields ?? [:] {
                    if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
                }
                result = .success(Reply(status: http?.statusCode ?? 0, headers: fields, body: data ?? Data()))
            }
            done.signal()
        }.resume()
        if done.wait(timeout: .now() + timeout + 1) == .timedOut { throw Failure(description: "no answer within \(Int(timeout)) s") }
        return try result.get()
    }

    /// A value for an `application/x-www-form-urlencoded` body (OAuth token and STS requests):
    /// everything but RFC 3986's unreserved characters percent-encoded.
    static func formEncode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }
}
