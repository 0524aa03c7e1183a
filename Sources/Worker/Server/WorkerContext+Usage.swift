import Foundation
import Logging
import NIOCore
import SharedState
import TollgateCore

/// Usage metering: one record per finished request that named a key, into the pod's
/// `UsageTable`, when its response ends — a bounded probe and a dozen atomic adds on the
/// worker's loop, outside quota admission and settlement; no lock, and no syscall beyond the
/// (vDSO) clock read.
extension WorkerContext {
    /// Stand-ins for the model of a request that named none, or one this config does not
    /// serve: a client cannot mint series (and fill the table) with made-up model names.
    static let noModel = "(none)"
    static let unknownModel = "(unknown)"

    /// `outcome` is how the exchange settled the request's consumption (nil: no upstream
    /// served it); `code` is the gateway error's code for responses the gateway made itself.
    func recordUsage(key: String?, model: String?, status: Int, code: String?, outcome: QuotaAdmission.Outcome?, since start: NIODeadline) {
        guard let usage, let key else { return }
        let elapsed = (NIODeadline.now() - start).nanoseconds
        let series = model.map { configStore.current.modelsByName[$0] != nil ? $0 : Self.unknownModel } ?? Self.noModel
        var sample = UsageTable.Sample(key: key, model: series, latencyMs: elapsed > 0 ? UInt64(elapsed / 1_000_000) : 0,
                                       error: UsageTable.ErrorClass.of(status: status, code: code))
        if case .served(let tokens, let price)? = outcome {
            sample.inputTokens = Saturating.uint64(tokens.promptTokens)
            sample.outputTokens = Saturating.uint64(tokens.completionTokens)
            sample.costNanoUSD = Saturating.uint64RoundingUp((tokens.cost(price) ?? 0) * 1_000_000_000)
        }
        usage.record(sample, nowSeconds: Int64(Date().timeIntervalSince1970))
    }

    /// The run directory's usage table (created if this worker is first); a failure is
    /// logged and only turns metering off.
    static func openUsageTable(runDirectory: String, logger: Logger) -> UsageTable? {
        do {
            return try UsageTable.openOrCreate(path: RunPaths(runDirectory: runDirectory).usageTable)
        } catch {
            logger.warning("usage table unavailable; this worker does not meter usage", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
