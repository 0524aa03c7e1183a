#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CTollgate

/// The quota table: one fixed-size file (`quota.shm` in the run directory), mmap'd `MAP_SHARED`
/// by the supervisor (creates it), the controller (garbage collection, Redis sync) and every
/// worker (admission and settlement). Like nginx's `limit_req` shared zone, but lock-free:
/// every word is changed with atomic loads, stores, adds and compare-and-swap only, so a
/// process killed at any instruction leaves nothing locked (see `QuotaTable+Slots.swift` for
/// how a half-claimed or half-reclaimed slot is repaired by the next process that meets it).
///
/// Worker API (what the request path calls; all non-blocking, no syscalls, no locks):
/// - `acquire(_:worker:onTableFull:now:)` — all-or-nothing admission over several limits;
///   returns `.admitted(QuotaReservation)` or `.rejected(QuotaRejection)` (which limit, why,
///   retry-after, limit/remaining/reset for `x-ratelimit-*` headers).
/// - `settle(_:actual:now:)` — once per reservation, when the response or stream ends, the
///   client disconnects or the upstream fails: refunds or charges the difference between the
///   estimate and the real usage, and releases concurrency slots. A second call is a no-op.
/// - `peek(_:now:)` — read-only status of one limit for headers.
/// - `clusterSyncState` — whether fail-closed cluster limits currently admit.
/// Supervisor: `QuotaTable.create(path:capacity:workerSlots:)` before spawning children, and
/// `releaseAll(worker:)` before respawning a dead worker. Controller: `collectGarbage`, and
/// the lease accessors in `QuotaTable+Lease.swift`, used by `QuotaSync` only.
///
/// Layout (little-endian, version 2):
/// ```
/// 0    magic "TGQUOTA\0"                       u64
/// 8    layout version                          u32
/// 12   header size (256)                       u32
/// 16   total size                              u64
/// 24   capacity (slots, a power of two)        u32
/// 28   slot size (128)                         u32
/// 32   worker columns                          u32
/// 36   probe window                            u32
/// 40   epoch: Unix ns of relative time 0       u64
/// 48   pod id (random, names this pod in Redis) u64
/// 56   cluster sync state (atomic)             u64   0 none, 1 healthy, 2 unavailable
/// 64   lease demand sequence (atomic)          u64   workers bump it when a lease slot runs low
/// 72   participant counter (controller)        u64   one id per leased slot incarnation
/// 80   stats (atomic): 16 × u64, see `Stat`
/// 256  slots: capacity × 16 × u64
///        0 key (0 = free)  1 value (bit 63 = being reclaimed; TAT, window count, or for a
///        leased slot the pod's allowance + 2^62)  2 fail-open counter (leased slots, Redis down)
///        3 limit  4 period ns (rolling) | window end (calendar) | last use (concurrent)
///        5 meta (kind | sharing << 8 | 1 << 16 | leased << 18)
///        6 granted (controller: cumulative units Redis granted this slot)
///        7 participant id (controller; 0 = never leased)  8 fail-open share
///        9 cluster remaining (last Redis answer)  10 refused until (table time)
///        11 refill threshold  12 demand (largest cost waiting)  13 last Redis call (table time)
///        14 live participants at the last answer  15 reserved
/// ...  in-flight counters: capacity × worker columns × u64 (concurrent limits only)
/// ```
/// Times inside the table are nanoseconds since `epoch` (a year before the table was made),
/// so 0 is "long ago" and 63 bits last for centuries.
public final class QuotaTable: @unchecked Sendable {
    public static let magic: UInt64 = 0x0041_544F_5551_4754  // "TGQUOTA\0" little-endian
    public static let layoutVersion: UInt32 = 2
    static let headerSize = 256
    static let slotWords = 16
    static let reclaimFlag: UInt64 = 1 << 63
    static let valueMask: UInt64 = reclaimFlag - 1

    /// Pod-wide counters in the header, for /metrics.
    public enum Stat: Int, CaseIterable, Sendable {
        /// Slots currently holding a key (claims minus reclaims).
        case slotsInUse
        /// A limit found no free slot in its probe window and the call asked to fail closed.
        case tableFullRejected
        /// A limit found no free slot and the call asked to fail open (the limit was skipped).
        case tableFullAdmitted
        /// Requests rejected because a fail-closed cluster limit could not be synced.
        case syncUnavailableRejected
        /// Sync rounds that could not reach Redis.
        case syncFailures
        /// Times Redis became unreachable (one per outage).
        case syncOutages
        /// Successful sync rounds.
        case syncRounds
        /// Slots reclaimed by the garbage collector.
        case slotsReclaimed
        /// Lease calls the controller made to Redis (each one round trip: one EVALSHA).
        case redisRoundTrips
        /// Requests admitted against at least one leased (cluster) limit.
        case clusterAdmitted
        /// Lease calls Redis answered with nothing (the cluster limit has no room).
        case leaseRefused
        /// Requests that found no local allowance and waited for (or took credit on) a lease.
        case leaseWaits
        /// Units granted to this pod by Redis (cumulative, all limits).
        case leaseUnitsGranted
        /// Units this pod gave back to Redis (released, idle or shutdown).
        case leaseUnitsReturned
        /// Lease scripts run (several may share one round trip when pipelined).
        case leaseCalls

        var offset: Int { 80 + rawValue * 8 }

        public var metricName: String {
            switch self {
            case .slotsInUse: return "tollgate_quota_slots_in_use"
            case .tableFullRejected: return "tollgate_quota_table_full_rejected_total"
            case .tableFullAdmitted: return "tollgate_quota_table_full_admitted_total"
            case .syncUnavailableRejected: return "tollgate_quota_sync_unavailable_rejected_total"
            case .syncFailures: return "tollgate_quota_sync_failures_total"
            case .syncOutages: return "tollgate_quota_sync_outages_total"
            case .syncRounds: return "tollgate_quota_sync_rounds_total"
            case .slotsReclaimed: return "tollgate_quota_slots_reclaimed_total"
            case .redisRoundTrips: return "tollgate_quota_redis_round_trips_total"
            case .clusterAdmitted: return "tollgate_quota_cluster_admitted_total"
            case .leaseRefused: return "tollgate_quota_lease_refused_total"
            case .leaseWaits: return "tollgate_quota_lease_waits_total"
            case .leaseUnitsGranted: return "tollgate_quota_lease_units_granted_total"
            case .leaseUnitsReturned: return "tollgate_quota_lease_units_returned_total"
            case .leaseCalls: return "tollgate_quota_lease_calls_total"
            }
        }
    }

    /// Whether cluster limits are currently synced.
    public enum ClusterSyncState: UInt64, Sendable {
        /// No Redis configured: cluster limits behave as local ones.
        case none = 0
        case healthy = 1
        /// Redis unreachable: fail-closed cluster limits reject, fail-open ones run locally.
        case unavailable = 2
    }

    public let path: String
    public let capacity: Int
    public let workerColumns: Int
    public let probeWindow: Int
    /// Unix nanoseconds of the table's relative time 0.
    public let epoch: UInt64
    let base: UnsafeMutableRawPointer
    let size: Int
    let mask: Int
    let matrixOffset: Int

    private init(path: String, base: UnsafeMutableRawPointer, size: Int, capacity: Int, workers: Int, window: Int, epoch: UInt64) {
        self.path = path
        self.base = base
        self.size = size
        self.capacity = capacity
        self.workerColumns = workers
        self.probeWindow = window
        self.epoch = epoch
        self.mask = capacity - 1
        self.matrixOffset = Self.headerSize + capacity * Self.slotWords * 8
    }

    deinit {
        munmap(base, size)
    }

    static func totalSize(capacity: Int, workers: Int) -> Int {
        headerSize + capacity * slotWords * 8 + capacity * workers * 8
    }

    /// Creates (or replaces) the table. `capacity` is rounded up to a power of two; each
    /// distinct (limit, scope, window) needs one slot. The file is sparse: pages of unused
    /// slots and of the in-flight counters of non-concurrency slots cost no memory.
    public static func create(path: String, capacity: Int = 16_384, workerSlots: Int) throws(ControlBlock.Error) -> QuotaTable {
        var cap = 16
        while cap < capacity { cap <<= 1 }
        let workers = max(1, workerSlots)
        let size = totalSize(capacity: cap, workers: workers)
        let window = min(32, cap)
        let epoch = QuotaClock.unixNanoseconds() - 366 * 86_400 * 1_000_000_000
        var podID: UInt64 = 0
        while podID == 0 { podID = UInt64.random(in: 1...UInt64.max) }
        let mem = try MappedFile.create(path: path, size: size) { mem in
            mem.storeBytes(of: magic.littleEndian, toByteOffset: 0, as: UInt64.self)
            mem.storeBytes(of: layoutVersion.littleEndian, toByteOffset: 8, as: UInt32.self)
            mem.storeBytes(of: UInt32(headerSize).littleEndian, toByteOffset: 12, as: UInt32.self)
            mem.storeBytes(of: UInt64(size).littleEndian, toByteOffset: 16, as: UInt64.self)
            mem.storeBytes(of: UInt32(cap).littleEndian, toByteOffset: 24, as: UInt32.self)
            mem.storeBytes(of: UInt32(slotWords * 8).littleEndian, toByteOffset: 28, as: UInt32.self)
            mem.storeBytes(of: UInt32(workers).littleEndian, toByteOffset: 32, as: UInt32.self)
            mem.storeBytes(of: UInt32(window).littleEndian, toByteOffset: 36, as: UInt32.self)
            mem.storeBytes(of: epoch.littleEndian, toByteOffset: 40, as: UInt64.self)
            mem.storeBytes(of: podID.littleEndian, toByteOffset: 48, as: UInt64.self)
        }
        return QuotaTable(path: path, base: mem, size: size, capacity: cap, workers: workers, window: window, epoch: epoch)
    }

    /// Maps an existing table, refusing files of another layout.
    public static func open(path: String) throws(ControlBlock.Error) -> QuotaTable {
        let (mem, actual) = try MappedFile.open(path: path, headerSize: headerSize)
        func fail(_ e: ControlBlock.Error) -> ControlBlock.Error { munmap(mem, actual); return e }
        guard UInt64(littleEndian: mem.loadUnaligned(fromByteOffset: 0, as: UInt64.self)) == magic else {
            throw fail(.badMagic(path: path))
        }
        let version = UInt32(littleEndian: mem.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        let slotSize = Int(UInt32(littleEndian: mem.loadUnaligned(fromByteOffset: 28, as: UInt32.self)))
        guard version == layoutVersion, slotSize == slotWords * 8 else { throw fail(.unsupportedLayout(path: path, version: version)) }
        let declared = UInt64(littleEndian: mem.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        let cap = Int(UInt32(littleEndian: mem.loadUnaligned(fromByteOffset: 24, as: UInt32.self)))
        let workers = Int(UInt32(littleEndian: mem.loadUnaligned(fromByteOffset: 32, as: UInt32.self)))
        let window = Int(UInt32(littleEndian: mem.loadUnaligned(fromByteOffset: 36, as: UInt32.self)))
        let epoch = UInt64(littleEndian: mem.loadUnaligned(fromByteOffset: 40, as: UInt64.self))
        guard cap > 0, cap & (cap - 1) == 0, window > 0, window <= cap, workers > 0,
              declared == UInt64(actual), totalSize(capacity: cap, workers: workers) == actual else {
            throw fail(.sizeMismatch(path: path, expected: declared, actual: UInt64(actual)))
        }
        return QuotaTable(path: path, base: mem, size: actual, capacity: cap, workers: workers, window: window, epoch: epoch)
    }

    // MARK: - Words

    @inline(__always)
    func word(_ offset: Int) -> UnsafeMutablePointer<UInt64> {
        (base + offset).assumingMemoryBound(to: UInt64.self)
    }

    @inline(__always)
    func slotWord(_ index: Int, _ field: Int) -> UnsafeMutablePointer<UInt64> {
        word(Self.headerSize + (index * Self.slotWords + field) * 8)
    }

    @inline(__always)
    func inflightWord(_ index: Int, worker: Int) -> UnsafeMutablePointer<UInt64> {
        word(matrixOffset + (index * workerColumns + worker) * 8)
    }

    /// The random id of this pod's table; the Redis sync uses it as this pod's hash field.
    public var podID: UInt64 { tg_atomic_load_u64(word(48)) }

    public func statistic(_ stat: Stat) -> UInt64 { tg_atomic_load_u64(word(stat.offset)) }

    @inline(__always)
    func count(_ stat: Stat, _ amount: UInt64 = 1) {
        _ = tg_atomic_add_u64(word(stat.offset), amount)
    }

    public var clusterSyncState: ClusterSyncState {
        ClusterSyncState(rawValue: tg_atomic_load_u64(word(56))) ?? .none
    }

    /// The lease demand sequence: workers bump it when a leased slot has too little allowance;
    /// the controller polls it to serve them without waiting for its next round.
    public var leaseDemandSequence: UInt64 { tg_atomic_load_u64(word(64)) }

    @inline(__always)
    func bumpLeaseDemand() { _ = tg_atomic_add_u64(word(64), 1) }

    /// A fresh participant id for a slot incarnation (controller only): Redis keeps one record
    /// per participant, so a slot that was reclaimed and created again never inherits the
    /// record (and the consumption) of its previous incarnation.
    func nextParticipant() -> UInt64 { tg_atomic_add_u64(word(72), 1) }

    /// Set by the controller's sync loop only.
    public func setClusterSyncState(_ state: ClusterSyncState) {
        tg_atomic_store_u64(word(56), state.rawValue)
    }

    /// Table time (ns since `epoch`) of a Unix time in ns; earlier instants clamp to 0.
    @inline(__always)
    public func tableTime(unixNanoseconds: UInt64) -> UInt64 {
        unixNanoseconds.subtractingSaturating(epoch)
    }

    /// The current table time.
    @inline(__always)
    public func now() -> UInt64 { tableTime(unixNanoseconds: QuotaClock.unixNanoseconds()) }
}
