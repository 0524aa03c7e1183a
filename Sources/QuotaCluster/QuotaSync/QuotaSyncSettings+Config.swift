import Config

extension QuotaSyncSettings {
    /// The sync settings a config asks for: `quotas.redis` (endpoint, password, interval, key
    /// prefix, timeouts); without it, garbage collection only.
    public init(_ quotas: GatewayConfig.Quotas) {
        self.init()
        guard let redis = quotas.redis else { return }
        self.redis = RedisClient.Endpoint(host: redis.host, port: redis.port, password: redis.password?.value, database: redis.database,
                                          connectTimeoutMilliseconds: redis.timeoutMs, commandTimeoutMilliseconds: redis.timeoutMs)
        intervalMilliseconds = redis.syncIntervalMs
        leaseTTLMilliseconds = redis.leaseTTLMs ?? max(3_000, 10 * redis.syncIntervalMs)
        keyPrefix = redis.keyPrefix + ":quota:"
    }
}
