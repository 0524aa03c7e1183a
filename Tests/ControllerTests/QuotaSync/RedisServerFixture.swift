import Foundation
import TollgateTesting
@testable import QuotaCluster

/// The test suite's `redis-server` (TollgateTesting's `RedisServer`) and the endpoint the
/// controller's client connects to.
typealias RedisServerFixture = RedisServer

extension RedisServer {
    var endpoint: RedisClient.Endpoint {
        RedisClient.Endpoint(host: "127.0.0.1", port: port, password: password, connectTimeoutMilliseconds: 300, commandTimeoutMilliseconds: 500)
    }
}
