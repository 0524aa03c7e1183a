#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CTollgate

/// The control block: one small file, mmap'd `MAP_SHARED` by the supervisor, the controller
/// and every worker of a data plane, through which they coordinate without syscalls.
///
/// It owns exactly two things: the current config generation (the controller publishes it
/// after a snapshot is durably renamed into place; workers compare it with their own on every
/// request, a single atomic load) and the per-worker statistics slots that let any worker
/// report the whole pod. Everything is fixed-width and updated with atomics only, so a process
/// killed mid-update cannot leave a lock held.
///
/// Layout (little-endian, version 3: quota rejection counters, labeled counters):
/// ```
/// 0   magic "TGSHM\0\0\0"      8 bytes
/// 8   layout version           u32
/// 12  header size (64)         u32
/// 16  total size               u64
/// 24  config generation        u64   (atomic)
/// 32  worker slot count        u32
/// 36  counters per slot        u32
/// 40  supervisor pid           u64
/// 48  labeled counters dropped  u64   (atomic; a full labeled-counter table)
/// 56  reserved                 8 bytes
/// 64  slots: slotCount × countersPerSlot × u64 (atomic)
/// …   labeled counters: `labeledCapacity` × 256 bytes (`LabeledCounters`)
/// ```
public final class ControlBlock: @unchecked Sendable {
    public static let magic: UInt64 = 0x0000_004D_4853_4754  // "TGSHM\0\0\0" little-endian
    public static let layoutVersion: UInt32 = 4
    static let headerSize = 64

    /// Errors naming the file and what is wrong with it.
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case io(path: String, operation: String, errno: Int32)
        case badMagic(path: String)
        case unsupportedLayout(path: String, version: UInt32)
        case sizeMismatch(path: String, expected: UInt64, actual: UInt64)

        public var description: String {
            switch self {
            case .io(let path, let op, let err):
                return "\(path): \(op) failed: \(String(cString: strerror(err)))"
            case .badMagic(let path):
                return "\(path): not a Tollgate control block (bad magic)"
            case .unsupportedLayout(let path, let version):
                return "\(path): control block layout version \(version) is not supported (expected \(ControlBlock.layoutVersion)); restart the whole data plane"
            case .sizeMismatch(let path, let expected, let actual):
                return "\(path): control block is \(actual) bytes, header says \(expected)"
            }
        }
    }

    public let path: String
    public let workerSlots: Int
    private let base: UnsafeMutableRawPointer
    private let size: Int

    private init(path: String, base: UnsafeMutableRawPointer, size: Int, workerSlots: Int) {
        self.path = path
        self.base = base
        self.size = size
        self.workerSlots = workerSlots
    }

    deinit {
        munmap(base, size)
    }

    /// Creates (or replaces) the control block. Called once by the supervisor before it spawns
    /// any child; the generation starts at 0, meaning "no snapshot yet".
    public static func create(path: String, workerSlots: Int) throws(Error) -> ControlBlock {
        let slots = max(1, workerSlots)
        let size = headerSize + slots * WorkerStats.Counter.allCases.count * 8 + labeledCapacity * LabeledCounters.slotSize
        let mem = try MappedFile.create(path: path, size: size) { mem in
            mem.storeBytes(of: magic.littleEndian, toByteOffset: 0, as: UInt64.self)
            mem.storeBytes(of: layoutVersion.littleEndian, toByteOffset: 8, as: UInt32.self)
            mem.storeBytes(of: UInt32(headerSize).littleEndian, toByteOffset: 12, as: UInt32.self)
            mem.storeBytes(of: UInt64(size).littleEndian, toByteOffset: 16, as: UInt64.self)
            mem.storeBytes(of: UInt32(slots).littleEndian, toByteOffset: 32, as: UInt32.self)
            mem.storeBytes(of: UInt32(WorkerStats.Counter.allCases.count).littleEndian, toByteOffset: 36, as: UInt32.self)
            mem.storeBytes(of: UInt64(getpid()).littleEndian, toByteOffset: 40, as: UInt64.self)
        }
        return ControlBlock(path: path, base: mem, size: size, workerSlots: slots)
    }

    /// Maps an existing control block, refusing files of another layout.
    public static func open(path: String) throws(Error) -> ControlBlock {
        let (mem, actual) = try MappedFile.open(path: path, headerSize: headerSize)
        let fileMagic = UInt64(littleEndian: mem.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        let version = UInt32(littleEndian: mem.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        let declared = UInt64(littleEndian: mem.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        let slots = Int(UInt32(littleEndian: mem.loadUnaligned(fromByteOffset: 32, as: UInt32.self)))
        let counters = Int(UInt32(littleEndian: mem.loadUnaligned(fromByteOffset: 36, as: UInt32.self)))
        func fail(_ e: Error) -> Error { munmap(mem, actual); return e }
        guard fileMagic == magic else { throw fail(.badMagic(path: path)) }
        guard version == layoutVersion, counters == WorkerStats.Counter.allCases.count else {
            throw fail(.unsupportedLayout(path: path, version: version))
        }
        guard declared == UInt64(actual), headerSize + slots * counters * 8 + labeledCapacity * LabeledCounters.slotSize == actual else {
            throw fail(.sizeMismatch(path: path, expected: declared, actual: UInt64(actual)))
        }
        return ControlBlock(path: path, base: mem, size: actual, workerSlots: slots)
    }

    private func word(at offset: Int) -> UnsafeMutablePointer<UInt64> {
        (base + offset).assumingMemoryBound(to: UInt64.self)
    }

    /// The generation of the newest durable snapshot (0 = none yet). One atomic load.
    public var configGeneration: UInt64 {
        tg_atomic_load_u64(word(at: 24))
    }

    /// Publishes a snapshot generation. Call only after the snapshot file is renamed into place.
    public func publishConfigGeneration(_ generation: UInt64) {
        tg_atomic_store_u64(word(at: 24), generation)
    }

    /// The statistics slot of worker `slot` (0-based, < `workerSlots`).
    public func stats(slot: Int) -> WorkerStats {
        precondition(slot >= 0 && slot < workerSlots, "worker slot \(slot) out of range")
        return WorkerStats(base: word(at: Self.headerSize + slot * WorkerStats.Counter.allCases.count * 8), owner: self)
    }

    /// Series counted per label (guardrail and WAF rules): 512 slots of 256 bytes.
    public static let labeledCapacity = 512

    /// The pod's labeled counters.
    public var labeledCounters: LabeledCounters {
        LabeledCounters(base: base + Self.headerSize + workerSlots * WorkerStats.Counter.allCases.count * 8,
                        capacity: Self.labeledCapacity, dropped: word(at: 48))
    }

    /// The sum of one counter over every worker slot.
    public func total(_ counter: WorkerStats.Counter) -> UInt64 {
        var sum: UInt64 = 0
        for slot in 0..<workerSlots {
            sum &+= stats(slot: slot).value(counter)
        }
        return sum
    }
}
