/// A value bound into or read out of a statement. The schema only uses 64-bit integers and
/// text (JSON documents are text), so both backends map onto this without loss.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case text(String)

    public init(_ value: String?) { self = value.map(SQLValue.text) ?? .null }
    public init(_ value: Int64?) { self = value.map(SQLValue.integer) ?? .null }
}

/// One result row, by column name.
public struct SQLRow: Sendable {
    public let columns: [String]
    public let values: [SQLValue]

    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    public subscript(_ name: String) -> SQLValue {
        guard let i = columns.firstIndex(of: name) else { return .null }
        return values[i]
    }

    public func text(_ name: String) throws(StoreError) -> String {
        guard case .text(let s) = self[name] else { throw .corrupt("column \(name) is not text") }
        return s
    }

    public func optionalText(_ name: String) -> String? {
        if case .text(let s) = self[name] { return s }
        return nil
    }

    public func int(_ name: String) throws(StoreError) -> Int64 {
        switch self[name] {
        case .integer(let i): return i
        // SQLite may hand back numbers stored through text affinity.
        case .text(let s): if let i = Int64(s) { return i }
        case .null: break
        }
        throw .corrupt("column \(name) is not an integer")
    }

    public func optionalInt(_ name: String) -> Int64? {
        switch self[name] {
        case .integer(let i): return i
        case .text(let s): return Int64(s)
        case .null: return nil
        }
    }
}
