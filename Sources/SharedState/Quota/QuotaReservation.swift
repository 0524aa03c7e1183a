import Synchronization

/// What `acquire` took from each limit, to be settled exactly once with `QuotaTable.settle`.
///
/// A reference type with an atomic flag because a request can end on several paths (stream
/// end, client disconnect, upstream failure) and only the first settlement may count; later
/// calls return false and change nothing. A reservation that is never settled keeps its
/// estimate charged (and its concurrency slot until its worker dies and is respawned).
public final class QuotaReservation: Sendable {
    struct Entry: Sendable {
        var slot: Int
        var key: UInt64
        var limit: QuotaLimit
        var cost: UInt64
        /// Status right after the reservation (for headers).
        var remaining: UInt64
        var resetAfter: UInt64
    }

    let entries: [Entry]
    /// The worker whose in-flight counters hold this reservation's concurrency slots.
    public let worker: Int
    private let settled = Atomic<Bool>(false)

    init(entries: [Entry], worker: Int) {
        self.entries = entries
        self.worker = worker
    }

    /// Status of every admitted limit right after the reservation, for response headers
    /// (limits skipped because the table was full and the call failed open are absent).
    /// Built on demand: most requests never need it when no header asks for it.
    public var statuses: [QuotaStatus] {
        entries.map { QuotaStatus($0.limit, remaining: $0.remaining, resetAfter: $0.resetAfter) }
    }

    /// True once `settle` ran.
    public var isSettled: Bool { settled.load(ordering: .acquiring) }

    /// Marks the reservation settled; true for the first caller only.
    func claimSettlement() -> Bool {
        settled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }
}
