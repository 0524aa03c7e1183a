import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP exchange whose response body is capped while it is read: the data task's
/// delegate counts the bytes as they arrive and cancels the task the moment they pass the
/// cap, so a control plane (or anything posing as one) cannot make the data plane buffer
/// more than `maxBodyBytes` (+ one chunk). A `Content-Length` above the cap is refused
/// before any body byte is read.
final class CappedResponseReader: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let lock = NSLock()
    private let maxBodyBytes: Int
    private let done = DispatchSemaphore(value: 0)
    // Guarded by `lock`.
    private var body = Data()
    private var response: HTTPURLResponse?
    private var failure: BlockingHTTP.Failure?

    private init(maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
    }

    static func exchange(_ request: URLRequest, maxBodyBytes: Int, timeout: Double) -> Result<BlockingHTTP.Reply, BlockingHTTP.Failure> {
        let reader = CappedResponseReader(maxBodyBytes: maxBodyBytes)
        let session = URLSession(configuration: .ephemeral, delegate: reader, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        let task = session.dataTask(with: request)
        task.resume()
        if reader.done.wait(timeout: .now() + timeout + 1) == .timedOut {
            task.cancel()
            return .failure(BlockingHTTP.Failure(description: "no answer within \(Int(timeout)) s"))
        }
        return reader.lock.withLock {
            if let failure = reader.failure { return .failure(failure) }
            var fields: [String: String] = [:]
            for (name, value) in reader.response?.allHeaderFields ?? [:] {
                if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
            }
            return .success(BlockingHTTP.Reply(status: reader.response?.statusCode ?? 0, headers: fields, body: reader.body))
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        let http = response as? HTTPURLResponse
        let tooLarge = response.expectedContentLength > Int64(maxBodyBytes)
        lock.withLock {
            self.response = http
            if tooLarge { failure = BlockingHTTP.Failure(description: "the answer announces \(response.expectedContentLength) bytes, more than the \(maxBodyBytes)-byte cap") }
        }
        completionHandler(tooLarge ? .cancel : .allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let over = lock.withLock { () -> Bool in
            guard failure == nil else { return true }
            if body.count + data.count > maxBodyBytes {
                failure = BlockingHTTP.Failure(description: "the answer exceeds the \(maxBodyBytes)-byte cap; stopped reading it")
                body = Data()
                return true
            }
            body.append(data)
            return false
        }
        if over { dataTask.cancel() }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        lock.withLock {
            if failure == nil, let error { failure = BlockingHTTP.Failure(description: error.localizedDescription) }
        }
        done.signal()
    }
}
