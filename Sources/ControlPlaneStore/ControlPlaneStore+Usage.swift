/// Usage aggregates: uploads from data planes and the queries the API answers.
extension ControlPlaneStore {
    /// Applies one uploaded batch in one transaction. A batch id already applied for this
    /// data plane changes nothing and returns `false` (a retry whose first answer was lost);
    /// otherwise each series is inserted or, if stored already, replaced only by larger
    /// counts — so neither a repeated batch nor a new batch repeating a series counts twice.
    public func recordUsage(dataplaneID: String, orgID: String, batchID: String, source: String, intervalSeconds: Int64,
                            records: [UsageRecord], nowMs: Int64) async throws -> Bool {
        let names = UsageCounts.columnNames
        let columns = ["dataplane_id", "source", "slot", "interval_start", "key_name", "model", "org_id", "team", "interval_seconds"]
            + names + ["updated_ms"]
        let placeholders = (1...columns.count).map { "$\($0)" }.joined(separator: ", ")
        let updates = (["team", "interval_seconds"] + names + ["updated_ms"]).map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        let upsert = """
            INSERT INTO usage_series (\(columns.joined(separator: ", "))) VALUES (\(placeholders))
            ON CONFLICT (dataplane_id, source, slot, interval_start, key_name, model) DO UPDATE SET \(updates)
            WHERE usage_series.requests < excluded.requests
            """
        do {
            return try await backend.transaction { conn in
                guard try await conn.query("SELECT batch_id FROM usage_batches WHERE dataplane_id = $1 AND batch_id = $2",
                                           [.text(dataplaneID), .text(batchID)]).isEmpty else { return false }
                try await conn.query("INSERT INTO usage_batches (dataplane_id, batch_id, rows, received_ms) VALUES ($1, $2, $3, $4)",
                                     [.text(dataplaneID), .text(batchID), .integer(Int64(records.count)), .integer(nowMs)])
                for r in records {
                    var binds: [SQLValue] = [.text(dataplaneID), .text(source), .integer(r.slot), .integer(r.intervalStart), .text(r.key),
                                             .text(r.model), .text(orgID), .text(r.team), .integer(intervalSeconds)]
                    binds += r.counts.columns.map { .integer($0.1) }
                    binds.append(.integer(nowMs))
                    try await conn.query(upsert, binds)
                }
                return true
            }
        } catch StoreError.conflict {
            // The same batch applied concurrently by another replica: it counted once.
            return false
        }
    }

    /// Sums of the matching series per bucket and grouped dimension, oldest bucket first.
    public func usage(_ q: UsageQuery) async throws -> [UsageTotal] {
        var binds: [SQLValue] = [.text(q.orgID), .integer(max(1, q.bucketSeconds)), .integer(q.from), .integer(q.to)]
        func bind(_ value: SQLValue) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        var filters = "org_id = $1 AND interval_start >= $3 AND interval_start < $4"
        if let key = q.key { filters += " AND key_name = \(bind(.text(key)))" }
        if let model = q.model { filters += " AND model = \(bind(.text(model)))" }
        if let teams = q.teams {
            guard !teams.isEmpty else { return [] }
            filters += " AND team IN (\(teams.map { bind(.text($0)) }.joined(separator: ", ")))"
        }
        let groups = q.groupBy.map(\.column)
        let sums = UsageCounts.columnNames.map { "CAST(SUM(\($0)) AS BIGINT) AS \($0)" }.joined(separator: ", ")
        let keys = (["bucket_start"] + groups).joined(separator: ", ")
        let sql = """
            SELECT (interval_start - (interval_start % $2)) AS bucket_start\(groups.map { ", \($0)" }.joined()), \(sums)
            FROM usage_series WHERE \(filters) GROUP BY \(keys) ORDER BY \(keys) LIMIT \(bind(.integer(Int64(q.limit))))
            """
        let finalBinds = binds
        return try await backend.transaction { conn in
            var out: [UsageTotal] = []
            for row in try await conn.query(sql, finalBinds) {
                out.append(UsageTotal(bucketStart: try row.int("bucket_start"), key: q.groupBy.contains(.key) ? try row.text("key_name") : nil,
                                      model: q.groupBy.contains(.model) ? try row.text("model") : nil,
                                      team: q.groupBy.contains(.team) ? try row.text("team") : nil, counts: try UsageCounts(row: row)))
            }
            return out
        }
    }
}
