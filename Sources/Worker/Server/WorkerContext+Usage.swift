import Foundation
import NIOCore
import SharedState
import TollgateCore

/// Usage metering: one record per finished request that named a key, into the pod's
/// `UsageTable` (a bounded probe and a dozen atomic adds, after the response is written —
/// off the request's critical section, no lock, no syscall but the clock read).
extension WorkerContext {
    /// `outcome` is how the exchange settled the request's consumption (nil: no upstream
    /// served it); `code` is the gateway error's code for responses the gateway made itself.
    func recordUsage(key: String?, model: String?, status: Int, code: String?, outcome: QuotaAdmission.Outcome?, since start: NIODeadline) {
        guard let usage, let key else { return }
        let elapsed = (NIODeadline.now() - start).nanoseconds
        var sample = UsageTable.Sample(key: key, model: model ?? "", latencyMs: elapsed > 0 ? UInt64(elapsed / 1_000_000) : 0,
                                       error: UsageTable.ErrorClass.of(status: status, code: code))
        if case .served(let tokens, let price)? = outcome {
            sample.inputTokens = Saturating.uint64(tokens.promptTokens)
            sample.outputTokens = Saturating.uint64(tokens.completionTokens)
            sample.costNanoUSD = Saturating.uint64RoundingUp((tokens.cost(price) ?? 0) * 1_000_000_000)
        }
        usage.record(sample, nowSeconds: Int64(Date().timeIntervalSince1970))
    }
}
