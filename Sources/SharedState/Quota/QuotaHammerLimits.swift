/// The limits `tollgate debug quota-hammer` processes charge, and which the multi-process test
/// inspects afterwards: one definition for both (the test cannot import the executable).
public enum QuotaHammerLimits {
    public static func all(budget: UInt64, inflight: UInt64) -> [QuotaLimit] {
        [
            QuotaLimit(LimitDefinition(name: "budget", unit: .requests, limit: budget, window: .calendar(.day, timeZone: "UTC")), scope: "hammer")!,
            QuotaLimit(LimitDefinition(name: "gcra", unit: .requests, limit: budget, window: .rolling(periodSeconds: 400 * 86_400)), scope: "hammer")!,
            QuotaLimit(LimitDefinition(name: "count", unit: .requests, limit: 1 << 61, window: .calendar(.day, timeZone: "UTC")), scope: "hammer")!,
            QuotaLimit(LimitDefinition(name: "inflight", unit: .requests, limit: inflight, window: .concurrent), scope: "hammer")!,
        ]
    }

    /// A counter raised while a process holds an admission and lowered before it settles:
    /// its value never exceeds the concurrency limit unless that limit leaks.
    public static let witness = QuotaLimit(LimitDefinition(name: "witness", unit: .requests, limit: 1 << 61, window: .calendar(.day, timeZone: "UTC")),
                                    scope: "hammer")!
}
