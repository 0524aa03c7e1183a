import CTollgate

/// Pod-wide counters that carry labels (per guardrail rule, per WAF rule), in the control
/// block after the worker slots, so `/metrics` on any worker reports every worker's counts.
///
/// Which labels will occur is not known up front (a CRS rule id, a policy's detector), so
/// each counter claims a fixed 256-byte slot by its series name on first use:
/// ```
/// 0   state   u64  0 free, 1 being claimed, else the name's hash (atomic)
/// 8   count   u64  (atomic add)
/// 16  length  u16  name length
/// 18  name    up to 238 bytes, written before the hash is published
/// ```
/// Claiming is a CAS (0 → 1), the name is written, then the hash is stored with release
/// ordering, so a reader that sees the hash sees the name. A process killed mid-claim leaves
/// one slot at 1, never a lock. Two workers claiming the same new series at once may end up
/// in two slots; the exporter adds series with the same name. A full table drops increments
/// and counts them in the header (`dropped`).
public struct LabeledCounters: @unchecked Sendable {
    public static let slotSize = 256
    public static let maxNameBytes = slotSize - 18
    static let probeLimit = 64

    private let base: UnsafeMutableRawPointer
    public let capacity: Int
    /// The control block header word counting dropped increments.
    private let dropped: UnsafeMutablePointer<UInt64>

    init(base: UnsafeMutableRawPointer, capacity: Int, dropped: UnsafeMutablePointer<UInt64>) {
        self.base = base
        self.capacity = capacity
        self.dropped = dropped
    }

    private func word(_ slot: Int, _ offset: Int) -> UnsafeMutablePointer<UInt64> {
        (base + slot * Self.slotSize + offset).assumingMemoryBound(to: UInt64.self)
    }

    /// FNV-1a, never 0 or 1 (those mark free and claiming slots).
    static func hash(_ name: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h < 2 ? h + 2 : h
    }

    /// Adds `amount` to the series `name` (a Prometheus series: metric name and labels).
    public func add(_ name: String, _ amount: UInt64 = 1) {
        guard capacity > 0 else { return }
        let bytes = Array(name.utf8.prefix(Self.maxNameBytes))
        let h = Self.hash(name)
        var slot = Int(h % UInt64(capacity))
        for _ in 0..<min(Self.probeLimit, capacity) {
            let state = word(slot, 0)
            var seen = tg_atomic_load_u64(state)
            if seen == 0 {
                var expected: UInt64 = 0
                if tg_atomic_cas_u64(state, &expected, 1) {
                    let raw = base + slot * Self.slotSize
                    raw.storeBytes(of: UInt16(bytes.count), toByteOffset: 16, as: UInt16.self)
                    bytes.withUnsafeBytes { (raw + 18).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                    tg_atomic_store_u64(state, h)
                    _ = tg_atomic_add_u64(word(slot, 8), amount)
                    return
                }
                seen = expected
            }
            if seen == h {
                _ = tg_atomic_add_u64(word(slot, 8), amount)
                return
            }
            slot = (slot + 1) % capacity
        }
        _ = tg_atomic_add_u64(dropped, amount)
    }

    /// Every series with its total (series in several slots added up), sorted by name.
    public func snapshot() -> [(name: String, count: UInt64)] {
        var totals: [String: UInt64] = [:]
        for slot in 0..<capacity {
            let state = tg_atomic_load_u64(word(slot, 0))
            guard state >= 2 else { continue }
            let raw = base + slot * Self.slotSize
            let length = min(Int(raw.loadUnaligned(fromByteOffset: 16, as: UInt16.self)), Self.maxNameBytes)
            let name = String(decoding: UnsafeRawBufferPointer(start: raw + 18, count: length), as: UTF8.self)
            totals[name, default: 0] &+= tg_atomic_load_u64(word(slot, 8))
        }
        return totals.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Increments lost because no slot was free.
    public var droppedCount: UInt64 { tg_atomic_load_u64(dropped) }

    /// `value` escaped for a Prometheus label (backslash, quote, newline).
    public static func label(_ value: String) -> String {
        var out = ""
        for c in value {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }
}
