import SharedState

/// Strict mode for a cluster limit: each request is checked and charged in Redis itself,
/// synchronously, instead of spending a lease in the shared-memory table. No overshoot across
/// pods, at the cost of one Redis round trip per request and of failing whenever Redis does.
///
/// Blocking (it owns a `RedisClient`): a worker must call it off its event loop (e.g. on a
/// small thread pool, one instance per thread) and treat a thrown error per the limit's
/// sharing (fail-open: admit; fail-closed: 429).
///
/// - Calendar limits count in a key of their own (`<lease key>:strict`), atomically checked
///   and incremented.
/// - Rolling limits run GCRA in Lua on a TAT key of their own, timed by Redis's clock (`TIME`),
///   so pods with skewed clocks agree.
/// - `adjust` settles either kind with the real usage: a refund lowers the count (or moves
///   the TAT back), a charge above the estimate raises it, so a strict budget can be spent to
///   within one request of its limit.
/// The table counts strict limits locally only (`LimitDefinition.strict`), so nothing charges
/// the same consumption twice.
/// `@unchecked Sendable`: it may move between threads (a pool hands it out), but only one uses
/// it at a time.
public final class StrictQuotaCheck: @unchecked Sendable {
    /// The outcome of one strict check.
    public struct Decision: Sendable, Equatable {
        public var admitted: Bool
        /// Units left after this request (calendar) or 0 when unknown (rolling).
        public var remaining: UInt64
        /// When rejected: nanoseconds until the request could pass; nil = never / window end unknown.
        public var retryAfterNanoseconds: UInt64?
    }

    static let calendarScript = RedisScript("""
        local limit, cost, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
        local used = tonumber(redis.call('GET', KEYS[1]) or '0')
        if used + cost > limit then return {0, math.max(0, limit - used)} end
        redis.call('SET', KEYS[1], string.format('%.0f', used + cost), 'PX', ttl)
        return {1, limit - used - cost}
        """)

    /// Settles a calendar charge: adds `delta` (negative = refund), never below 0.
    static let calendarAdjustScript = RedisScript("""
        local used = tonumber(redis.call('GET', KEYS[1]) or '0')
        local ttl = redis.call('PTTL', KEYS[1])
        if ttl < 0 then ttl = tonumber(ARGV[2]) end
        redis.call('SET', KEYS[1], string.format('%.0f', math.max(0, used + tonumber(ARGV[1]))), 'PX', ttl)
        return 1
        """)

    /// Times in microseconds (Redis TIME); increments rounded up like `GCRA`.
    static let rollingScript = RedisScript("""
        local period, limit, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
        local base = math.max(tat, now)
        local new = base + math.ceil(cost * period / limit)
        if new - now > period then
          if cost > limit then return {0, -1} end
          return {0, new - period - now}
        end
        redis.call('SET', KEYS[1], string.format('%.0f', new), 'PX', math.ceil(period / 1000) + 1000)
        return {1, 0}
        """)

    /// Settles a rolling charge: a refund moves the TAT back by the refunded units (rounded
    /// down), a charge moves it forward from now at the latest.
    static let rollingAdjustScript = RedisScript("""
        local period, limit, delta = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
        if delta < 0 then
          if tat <= now then return 0 end
          tat = math.max(now, tat - math.floor(-delta * period / limit))
        else
          tat = math.max(tat, now) + math.ceil(delta * period / limit)
        end
        redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil(period / 1000) + 1000)
        return 1
        """)

    private let client: RedisClient
    private let keyPrefix: String
    private let graceMilliseconds: UInt64

    public init(endpoint: RedisClient.Endpoint, settings: QuotaSyncSettings) {
        client = RedisClient(endpoint: endpoint)
        keyPrefix = settings.keyPrefix
        graceMilliseconds = UInt64(max(0, settings.gcGraceSeconds)) * 1_000
    }

    /// Checks `cost` against `limit` in Redis and charges it if it fits.
    public func consume(_ limit: QuotaLimit, cost: UInt64, unixNanoseconds: UInt64 = QuotaClock.unixNanoseconds()) throws(RedisClientError) -> Decision {
        let (key, windowEnd) = limit.slotKey(unixNanoseconds: unixNanoseconds)
        switch limit.definition.window {
        case .calendar:
            let ttl = windowEnd > unixNanoseconds ? (windowEnd - unixNanoseconds) / 1_000_000 + graceMilliseconds : 1_000
            let reply = try client.evaluate(Self.calendarScript, keys: [redisKey(key) + ":strict"],
                                            arguments: [String(limit.limit), String(cost), String(max(1_000, ttl))])
            let (ok, left) = try pair(reply)
            let untilEnd = windowEnd > unixNanoseconds ? windowEnd - unixNanoseconds : 0
            return Decision(admitted: ok == 1, remaining: UInt64(max(0, left)),
                            retryAfterNanoseconds: ok == 1 ? 0 : (cost > limit.limit ? nil : untilEnd))
        case .rolling(let seconds):
            let reply = try client.evaluate(Self.rollingScript, keys: [redisKey(key) + ":strict"],
                                            arguments: [String(seconds * 1_000_000), String(limit.limit), String(cost)])
            let (ok, retryMicros) = try pair(reply)
            // Redis's answer is outside input: a huge wait saturates instead of trapping.
            let retry = retryMicros < 0 ? nil : Optional(UInt64(retryMicros).multipliedReportingOverflow(by: 1_000))
            return Decision(admitted: ok == 1, remaining: 0,
                            retryAfterNanoseconds: ok == 1 ? 0 : retry.map { $0.overflow ? .max : $0.partialValue })
        case .concurrent:
            throw .unexpectedReply("concurrency limits have no strict mode")
        }
    }

    /// Settles a strict charge with the real usage: `delta` = actual − estimate (negative =
    /// refund), for calendar and rolling limits alike.
    public func adjust(_ limit: QuotaLimit, by delta: Int64, unixNanoseconds: UInt64 = QuotaClock.unixNanoseconds()) throws(RedisClientError) {
        guard delta != 0 else { return }
        let (key, windowEnd) = limit.slotKey(unixNanoseconds: unixNanoseconds)
        switch limit.definition.window {
        case .calendar:
            let ttl = windowEnd > unixNanoseconds ? (windowEnd - unixNanoseconds) / 1_000_000 + graceMilliseconds : 1_000
            _ = try client.evaluate(Self.calendarAdjustScript, keys: [redisKey(key) + ":strict"], arguments: [String(delta), String(max(1_000, ttl))])
        case .rolling(let seconds):
            _ = try client.evaluate(Self.rollingAdjustScript, keys: [redisKey(key) + ":strict"],
                                    arguments: [String(seconds * 1_000_000), String(limit.limit), String(delta)])
        case .concurrent:
            return
        }
    }

    private func redisKey(_ key: UInt64) -> String {
        QuotaSync.redisKey(prefix: keyPrefix + "lease:", key: key)
    }

    private func pair(_ reply: RedisReply) throws(RedisClientError) -> (Int64, Int64) {
        guard case .array(let items) = reply, items.count == 2, let a = items[0].integer, let b = items[1].integer else {
            throw .unexpectedReply("strict check returned \(reply)")
        }
        return (a, b)
    }
}
