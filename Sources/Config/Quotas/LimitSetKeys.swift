extension GatewayConfig.Limit {
    /// The keys a `limits:` mapping accepts, and what each means.
    static let keys: [(key: String, metric: Metric, window: Window)] = [
        ("requests_per_second", .requests, .rolling(seconds: 1)),
        ("requests_per_minute", .requests, .rolling(seconds: 60)),
        ("requests_per_hour", .requests, .rolling(seconds: 3_600)),
        ("requests_per_day", .requests, .rolling(seconds: 86_400)),
        ("tokens_per_minute", .tokens, .rolling(seconds: 60)),
        ("tokens_per_hour", .tokens, .rolling(seconds: 3_600)),
        ("tokens_per_day", .tokens, .rolling(seconds: 86_400)),
        ("concurrent_requests", .concurrent, .concurrent),
        ("usd_per_day", .microUSD, .calendarDay),
        ("usd_per_month", .microUSD, .calendarMonth),
        ("usd_per_24h", .microUSD, .rolling(seconds: 86_400)),
        ("usd_per_7d", .microUSD, .rolling(seconds: 7 * 86_400)),
        ("usd_per_30d", .microUSD, .rolling(seconds: 30 * 86_400)),
    ]
}
