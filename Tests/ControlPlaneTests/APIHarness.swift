import ControlPlaneStore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import Logging
import NIOCore
import Testing
import TollgateTesting
@testable import ControlPlane

/// The API in process: a Hummingbird server on 127.0.0.1:0 over a fresh store, and a small
/// async JSON client (URLSession, so no cooperative thread blocks while the server works).
final class APIHarness: @unchecked Sendable {
    static let adminToken = "bootstrap-admin-token-0123456789abcdef"
    static let masterKey = "k1:" + Data(repeating: 7, count: 32).base64EncodedString()

    let store: ControlPlaneStore
    let dir: TempDirectory?
    let port: Int
    private let server: Task<Void, any Error>
    let clock: TestClock

    final class TestClock: @unchecked Sendable {
        private let lock = NSLock()
        private var ms: Int64 = 1_800_000_000_000
        var now: Int64 { lock.withLock { ms } }
        func advance(_ delta: Int64) { lock.withLock { ms += delta } }
    }

    struct Reply {
        var status: Int
        var headers: [String: String]
        var json: JSONValue
        var text: String
        subscript(_ key: String) -> JSONValue? { json[key] }
        var errorCode: String? { json["error"]?["code"]?.stringValue }
    }

    init(_ backend: TestBackend, secretBox: Bool = true) async throws {
        (store, dir) = try await backend.makeStore()
        let clock = TestClock()
        self.clock = clock
        let settings = ControlPlaneSettings(adminTokenHash: Tokens.hash(Self.adminToken),
                                            secretBox: secretBox ? try SecretBox(keyMaterial: Self.masterKey) : nil,
                                            unreachableAfterMissedPolls: 3)
        let api = ControlPlaneAPI(store: store, settings: settings, logger: Logger(label: "test"), clock: { clock.now })
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(router: ControlPlaneServer.router(api: api),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
                              logger: Logger(label: "test"))
        server = Task { try await app.run() }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw ChildProcessError("the API server did not start") }
        self.port = port
    }

    func stop() async {
        server.cancel()
        _ = await server.result
        await store.close()
    }

    @discardableResult
    func call(_ method: String, _ path: String, token: String? = APIHarness.adminToken, body: JSONValue? = nil,
              raw: Data? = nil, headers: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 15)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        if let raw { request.httpBody = raw }
        if let body {
            request.httpBody = body.canonicalData()
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (k, v) in http.allHeaderFields { if let k = k as? String, let v = v as? String { fields[k.lowercased()] = v } }
        return Reply(status: http.statusCode, headers: fields, json: JSONValue.parse(data) ?? .null, text: String(decoding: data, as: UTF8.self))
    }

    /// An org with a team, an admin/operator/developer/viewer user each with a token.
    struct Org {
        var id: String
        var tokens: [Role: String]
        var users: [Role: String]
    }

    func makeOrg(_ name: String = "acme") async throws -> Org {
        let org = try await call("POST", "/api/v1/orgs", body: .object(["name": .string(name)]))
        #expect(org.status == 201, "\(org.text)")
        let id = try #require(org["id"]?.stringValue)
        let team = try await call("POST", "/api/v1/orgs/\(id)/teams", body: .object(["name": .string("search")]))
        #expect(team.status == 201, "\(team.text)")
        _ = try await call("POST", "/api/v1/orgs/\(id)/teams", body: .object(["name": .string("billing")]))
        var tokens: [Role: String] = [:]
        var users: [Role: String] = [:]
        for role in Role.allCases {
            let user = try await call("POST", "/api/v1/orgs/\(id)/users",
                                      body: .object(["email": .string("\(role.rawValue)@\(name).example"), "role": .string(role.rawValue),
                                                     "teams": .array([.string("search")])]))
            #expect(user.status == 201, "\(user.text)")
            let userID = try #require(user["id"]?.stringValue)
            let token = try await call("POST", "/api/v1/orgs/\(id)/users/\(userID)/tokens", body: .object(["name": .string("t")]))
            #expect(token.status == 201, "\(token.text)")
            tokens[role] = try #require(token["token"]?.stringValue)
            users[role] = userID
        }
        return Org(id: id, tokens: tokens, users: users)
    }
}
