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
        guard let u = URL(string: url) else { throw Failure(description: "\(url) is not a URL") }
        var request = URLRequest(url: u, timeoutInterval: timeout)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<(Int, Data), Failure> = .failure(Failure(description: "no answer"))
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error {
                result = .failure(Failure(description: error.localizedDescription))
            } else {
                result = .success(((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data()))
            }
            done.signal()
        }.resume()
        if done.wait(timeout: .now() + timeout + 1) == .timedOut { throw Failure(description: "no answer within \(Int(timeout)) s") }
        let (status, data) = try result.get()
        return (status, data)
    }

    /// A value for an `application/x-www-form-urlencoded` body (OAuth token and STS requests):
    /// everything but RFC 3986's unreserved characters percent-encoded.
    static func formEncode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }
}
