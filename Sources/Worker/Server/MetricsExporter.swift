import SharedState

/// Renders the pod-wide counters from the control block in the Prometheus text format, so a
/// scrape of any one worker reports every worker of the pod.
enum MetricsExporter {
    static func render(worker: WorkerContext, config: RuntimeConfig) -> String {
        var out = ""
        out += "# HELP tollgate_config_generation Config snapshot generation this worker serves.\n"
        out += "# TYPE tollgate_config_generation gauge\n"
        out += "tollgate_config_generation \(config.generation)\n"
        guard let block = worker.controlBlock else { return out }
        for counter in WorkerStats.Counter.allCases where counter != .pid && counter != .configGeneration {
            let kind = counter.isGauge ? "gauge" : "counter"
            out += "# TYPE \(counter.metricName) \(kind)\n"
            for slot in 0..<block.workerSlots {
                let stats = block.stats(slot: slot)
                guard stats.value(.pid) != 0 else { continue }
                out += "\(counter.metricName){worker=\"\(slot)\"} \(stats.value(counter))\n"
            }
        }
        var typed = Set<Substring>()
        let labeled = block.labeledCounters
        for (series, count) in labeled.snapshot() {
            let metric = series.prefix { $0 != "{" }
            if typed.insert(metric).inserted { out += "# TYPE \(metric) counter\n" }
            out += "\(series) \(count)\n"
        }
        out += "# TYPE tollgate_labeled_counters_dropped_total counter\ntollgate_labeled_counters_dropped_total \(labeled.droppedCount)\n"
        if let table = worker.quotaTable {
            for stat in QuotaTable.Stat.allCases {
                out += "# TYPE \(stat.metricName) \(stat == .slotsInUse ? "gauge" : "counter")\n"
                out += "\(stat.metricName) \(table.statistic(stat))\n"
            }
            out += "# TYPE tollgate_quota_table_slots gauge\ntollgate_quota_table_slots \(table.capacity)\n"
            out += "# TYPE tollgate_quota_cluster_sync_state gauge\ntollgate_quota_cluster_sync_state \(table.clusterSyncState.rawValue)\n"
        }
        return out
    }
}
