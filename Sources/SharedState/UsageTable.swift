#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CTollgate

/// Usage aggregates of one data plane, per API key × model × interval, in shared memory
/// (`usage.shm` in the run directory): every worker adds to it when a response ends, the
/// controller reads it and uploads it to the control plane (`UsageUploader`), and reclaims
/// series once they are uploaded and their interval is long over.
///
/// A worker's part is a few atomic adds on a slot it finds by hashing (interval, key, model):
/// no lock, no syscall, nothing a dead process could leave held. Counters only ever grow, so
/// the controller uploads *cumulative* values and the control plane stores them with
/// replace-if-larger semantics: an upload repeated for any reason (lost response, controller
/// restart) cannot count anything twice. `requests` is added last by a worker and read first
/// by the controller, so a reader that sees N requests sees every other counter of those N.
///
/// Layout (little-endian, version 1):
/// ```
/// 0    magic "TGUSAGE\0"                u64
/// 8    layout version                    u32
/// 12   header size (128)                 u32
/// 16   total size                        u64
/// 24   capacity (slots)                  u32
/// 28   slot size (512)                   u32
/// 32   interval seconds                  u32
/// 36   reserved                          u32
/// 40   source id (random, nonzero)       u64   names this table's series at the control plane
/// 48   dropped records (atomic)          u64   no free slot within the probe window
/// 56   reclaimed slots (atomic)          u64
/// 128  slots: capacity × 512 bytes
///        0 state u64 (0 free, 1 being claimed or reclaimed, else the series hash; atomic)
///        8 interval start, Unix seconds  u64
///        16 key length u16, 18 model length u16
///        32 counters: `Counter.allCases.count` × u64 (atomic adds)
///        224 key name (≤ 128 bytes), 352 model name (≤ 128 bytes)
/// ```
/// A slot is claimed by CAS 0 → 1, its counters zeroed and names written, then the hash is
/// stored with release ordering. The controller reclaims a slot (hash → 1 → zeroed → 0) only
/// when its interval ended more than `reclaimGraceSeconds` ago, so no worker is still adding.
public final class UsageTable: @unchecked Sendable {
    public static let magic: UInt64 = 0x0045_4741_5355_4754  // "TGUSAGE\0" little-endian
    public static let layoutVersion: UInt32 = 1
    static let headerSize = 128
    public static let slotSize = 512
    public static let maxNameBytes = 128
    static let countersOffset = 32
    static let keyOffset = 224
    static let modelOffset = 352
    static let probeLimit = 64
    public static let reclaimGraceSeconds: Int64 = 120

    /// One counter of a series. Appending a case changes the layout: bump `layoutVersion`
    /// (there is room for 24).
    public enum Counter: Int, CaseIterable, Sendable {
        case requests
        case inputTokens
        case outputTokens
        /// Billions of a US dollar, so per-request costs of a fraction of a cent add up exactly.
        case costNanoUSD
        case latencyMsSum
        /// 4xx other than the classes below (bad request, unknown model, too large…).
        case errorsClient
        /// 401 and 403 not caused by a guardrail.
        case errorsAuth
        /// 429: rate limits and budgets.
        case errorsRateLimited
        /// 5xx: every backend failed, timed out or answered an error.
        case errorsUpstream
        case guardrailBlocks
        case latencyBucket0, latencyBucket1, latencyBucket2, latencyBucket3, latencyBucket4, latencyBucket5
        case latencyBucket6, latencyBucket7, latencyBucket8, latencyBucket9, latencyBucket10, latencyBucket11
    }

    /// Upper bounds (milliseconds, inclusive) of the latency histogram's buckets; the last is +Inf.
    public static let latencyBoundsMs: [UInt64] = [25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, .max]

    /// How a response is classified for `errors…` (nil: a success, 1xx–3xx).
    public enum ErrorClass: Sendable, Equatable {
        case client, auth, rateLimited, upstream, guardrail

        /// From the response status and, for gateway errors, its code.
        public static func of(status: Int, code: String?) -> ErrorClass? {
            if code == "guardrail_blocked" { return .guardrail }
            switch status {
            case 401, 403: return .auth
            case 429: return .rateLimited
            case 400..<500: return .client
            case 500..<600: return .upstream
            default: return nil
            }
        }
    }

    /// What one finished request adds.
    public struct Sample: Sendable, Equatable {
        public var key: String
        public var model: String
        public var inputTokens: UInt64
        public var outputTokens: UInt64
        public var costNanoUSD: UInt64
        public var latencyMs: UInt64
        public var error: ErrorClass?

        public init(key: String, model: String, inputTokens: UInt64 = 0, outputTokens: UInt64 = 0, costNanoUSD: UInt64 = 0,
                    latencyMs: UInt64, error: ErrorClass? = nil) {
            self.key = key
            self.model = model
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
            self.costNanoUSD = costNanoUSD
            self.latencyMs = latencyMs
            self.error = error
        }
    }

    /// One series as the controller reads it.
    public struct Series: Sendable, Equatable {
        public var slot: Int
        public var intervalStart: Int64
        public var key: String
        public var model: String
        /// Indexed by `Counter.rawValue`.
        public var counters: [UInt64]

        public subscript(_ counter: Counter) -> UInt64 { counters[counter.rawValue] }
    }

    public let path: String
    public let capacity: Int
    public let intervalSeconds: Int64
    public let sourceID: UInt64
    private let base: UnsafeMutableRawPointer
    private let size: Int

    private init(path: String, base: UnsafeMutableRawPointer, size: Int) {
        self.path = path
        self.base = base
        self.size = size
        capacity = Int(base.load(fromByteOffset: 24, as: UInt32.self))
        intervalSeconds = Int64(base.load(fromByteOffset: 32, as: UInt32.self))
        sourceID = base.load(fromByteOffset: 40, as: UInt64.self)
    }

    deinit { munmap(base, size) }

    /// Maps `path`, creating it when it does not exist yet. Any process of the data plane may
    /// be first (the controller or a worker); the file is built under a temporary name and
    /// published with `link`, which fails if another process published one first, so all of
    /// them end up on the same file.
    public static func openOrCreate(path: String, capacity: Int = 4096, intervalSeconds: Int = 60) throws(ControlBlock.Error) -> UsageTable {
        if access(path, F_OK) == 0 { return try open(path: path) }
        let slots = max(16, min(capacity, 1 << 20))
        let size = headerSize + slots * slotSize
        let tmp = path + ".tmp.\(getpid())"
        let fd = Glibc.open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: tmp, operation: "open", errno: errno) }
        defer { close(fd) }
        guard ftruncate(fd, off_t(size)) == 0 else {
            unlink(tmp)
            throw .io(path: tmp, operation: "ftruncate", errno: errno)
        }
        guard let mem = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), mem != MAP_FAILED else {
            unlink(tmp)
            throw .io(path: tmp, operation: "mmap", errno: errno)
        }
        var source: UInt64 = 0
        while source == 0 { source = UInt64.random(in: 1...UInt64.max) }
        mem.storeBytes(of: magic, toByteOffset: 0, as: UInt64.self)
        mem.storeBytes(of: layoutVersion, toByteOffset: 8, as: UInt32.self)
        mem.storeBytes(of: UInt32(headerSize), toByteOffset: 12, as: UInt32.self)
        mem.storeBytes(of: UInt64(size), toByteOffset: 16, as: UInt64.self)
        mem.storeBytes(of: UInt32(slots), toByteOffset: 24, as: UInt32.self)
        mem.storeBytes(of: UInt32(slotSize), toByteOffset: 28, as: UInt32.self)
        mem.storeBytes(of: UInt32(max(1, min(intervalSeconds, 86_400))), toByteOffset: 32, as: UInt32.self)
        mem.storeBytes(of: source, toByteOffset: 40, as: UInt64.self)
        let published = link(tmp, path) == 0
        let linkErrno = errno
        unlink(tmp)
        guard published else {
            munmap(mem, size)
            if linkErrno == EEXIST { return try open(path: path) }
            throw .io(path: path, operation: "link", errno: linkErrno)
        }
        return UsageTable(path: path, base: mem, size: size)
    }

    /// Maps an existing table after checking its header.
    public static func open(path: String) throws(ControlBlock.Error) -> UsageTable {
        let (mem, actual) = try MappedFile.open(path: path, headerSize: headerSize)
        guard mem.load(fromByteOffset: 0, as: UInt64.self) == magic else {
            munmap(mem, actual)
            throw .badMagic(path: path)
        }
        let version = mem.load(fromByteOffset: 8, as: UInt32.self)
        guard version == layoutVersion, mem.load(fromByteOffset: 28, as: UInt32.self) == UInt32(slotSize) else {
            munmap(mem, actual)
            throw .unsupportedLayout(path: path, version: version)
        }
        let declared = mem.load(fromByteOffset: 16, as: UInt64.self)
        let slots = Int(mem.load(fromByteOffset: 24, as: UInt32.self))
        guard declared == UInt64(actual), headerSize + slots * slotSize <= actual, mem.load(fromByteOffset: 32, as: UInt32.self) > 0 else {
            munmap(mem, actual)
            throw .sizeMismatch(path: path, expected: declared, actual: UInt64(actual))
        }
        return UsageTable(path: path, base: mem, size: actual)
    }

    private func slotBase(_ slot: Int) -> UnsafeMutableRawPointer { base + Self.headerSize + slot * Self.slotSize }

    private func word(_ slot: Int, _ offset: Int) -> UnsafeMutablePointer<UInt64> {
        (slotBase(slot) + offset).assumingMemoryBound(to: UInt64.self)
    }

    private func counter(_ slot: Int, _ c: Counter) -> UnsafeMutablePointer<UInt64> {
        word(slot, Self.countersOffset + c.rawValue * 8)
    }

    private var droppedWord: UnsafeMutablePointer<UInt64> { (base + 48).assumingMemoryBound(to: UInt64.self) }
    private var reclaimedWord: UnsafeMutablePointer<UInt64> { (base + 56).assumingMemoryBound(to: UInt64.self) }

    /// Records lost because no slot was free within the probe window.
    public var droppedCount: UInt64 { tg_atomic_load_u64(droppedWord) }
    public var reclaimedCount: UInt64 { tg_atomic_load_u64(reclaimedWord) }

    /// FNV-1a over the series identity, never 0 or 1 (free and busy slots).
    static func hash(intervalStart: Int64, key: some Collection<UInt8>, model: some Collection<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var start = UInt64(bitPattern: intervalStart)
        for _ in 0..<8 {
            h = (h ^ (start & 0xFF)) &* 0x100_0000_01b3
            start >>= 8
        }
        for b in key { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        h = (h ^ 0xFF) &* 0x100_0000_01b3
        for b in model { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h < 2 ? h + 2 : h
    }

    /// At most `maxNameBytes` of `name`, cut at a character boundary, so the name read back
    /// is valid UTF-8 of at most that many bytes (what the control plane accepts).
    static func truncated(_ name: String) -> Substring.UTF8View {
        guard name.utf8.count > maxNameBytes else { return name[...].utf8 }
        var bytes = 0
        for scalar in name.unicodeScalars {
            let width = UTF8.width(scalar)
            if bytes + width > maxNameBytes { break }
            bytes += width
        }
        return name[...].utf8.prefix(bytes)
    }

    public func intervalStart(ofUnixSeconds now: Int64) -> Int64 { now - ((now % intervalSeconds) + intervalSeconds) % intervalSeconds }

    /// Adds one finished request to its series (the current interval of `nowSeconds`).
    /// Non-blocking: a bounded probe over atomics; a full table counts the record as dropped.
    public func record(_ sample: Sample, nowSeconds: Int64) {
        let start = intervalStart(ofUnixSeconds: nowSeconds)
        let key = Self.truncated(sample.key)
        let model = Self.truncated(sample.model)
        let h = Self.hash(intervalStart: start, key: key, model: model)
        var slot = Int(h % UInt64(capacity))
        for _ in 0..<min(Self.probeLimit, capacity) {
            let state = word(slot, 0)
            var seen = tg_atomic_load_u64(state)
            if seen == 0 {
                var expected: UInt64 = 0
                if tg_atomic_cas_u64(state, &expected, 1) {
                    claim(slot, start: start, key: key, model: model)
                    tg_atomic_store_u64(state, h)
                    add(sample, to: slot)
                    return
                }
                seen = expected
            }
            if seen == h, matches(slot, start: start, key: key, model: model) {
                add(sample, to: slot)
                return
            }
            slot = (slot + 1) % capacity
        }
        _ = tg_atomic_add_u64(droppedWord, 1)
    }

    private func claim(_ slot: Int, start: Int64, key: Substring.UTF8View, model: Substring.UTF8View) {
        let raw = slotBase(slot)
        for c in Counter.allCases { tg_atomic_store_u64(counter(slot, c), 0) }
        raw.storeBytes(of: start, toByteOffset: 8, as: Int64.self)
        raw.storeBytes(of: UInt16(key.count), toByteOffset: 16, as: UInt16.self)
        raw.storeBytes(of: UInt16(model.count), toByteOffset: 18, as: UInt16.self)
        var i = 0
        for b in key { raw.storeBytes(of: b, toByteOffset: Self.keyOffset + i, as: UInt8.self); i += 1 }
        i = 0
        for b in model { raw.storeBytes(of: b, toByteOffset: Self.modelOffset + i, as: UInt8.self); i += 1 }
    }

    /// A hash match is checked against the names, so two series that collide never share counts.
    private func matches(_ slot: Int, start: Int64, key: Substring.UTF8View, model: Substring.UTF8View) -> Bool {
        let raw = UnsafeRawPointer(slotBase(slot))
        guard raw.load(fromByteOffset: 8, as: Int64.self) == start,
              Int(raw.load(fromByteOffset: 16, as: UInt16.self)) == key.count,
              Int(raw.load(fromByteOffset: 18, as: UInt16.self)) == model.count else { return false }
        return UnsafeRawBufferPointer(start: raw + Self.keyOffset, count: key.count).elementsEqual(key)
            && UnsafeRawBufferPointer(start: raw + Self.modelOffset, count: model.count).elementsEqual(model)
    }

    private func add(_ sample: Sample, to slot: Int) {
        if sample.inputTokens > 0 { _ = tg_atomic_add_u64(counter(slot, .inputTokens), sample.inputTokens) }
        if sample.outputTokens > 0 { _ = tg_atomic_add_u64(counter(slot, .outputTokens), sample.outputTokens) }
        if sample.costNanoUSD > 0 { _ = tg_atomic_add_u64(counter(slot, .costNanoUSD), sample.costNanoUSD) }
        _ = tg_atomic_add_u64(counter(slot, .latencyMsSum), sample.latencyMs)
        let bucket = Self.latencyBoundsMs.firstIndex { sample.latencyMs <= $0 } ?? (Self.latencyBoundsMs.count - 1)
        _ = tg_atomic_add_u64(counter(slot, Counter(rawValue: Counter.latencyBucket0.rawValue + bucket)!), 1)
        switch sample.error {
        case nil: break
        case .client?: _ = tg_atomic_add_u64(counter(slot, .errorsClient), 1)
        case .auth?: _ = tg_atomic_add_u64(counter(slot, .errorsAuth), 1)
        case .rateLimited?: _ = tg_atomic_add_u64(counter(slot, .errorsRateLimited), 1)
        case .upstream?: _ = tg_atomic_add_u64(counter(slot, .errorsUpstream), 1)
        case .guardrail?: _ = tg_atomic_add_u64(counter(slot, .guardrailBlocks), 1)
        }
        // Last: a reader that sees this request sees everything above (see the type's comment).
        _ = tg_atomic_add_u64(counter(slot, .requests), 1)
    }

    /// Every series in the table (controller side).
    public func snapshot() -> [Series] {
        var out: [Series] = []
        for slot in 0..<capacity {
            guard tg_atomic_load_u64(word(slot, 0)) >= 2 else { continue }
            let raw = UnsafeRawPointer(slotBase(slot))
            var counters = [UInt64](repeating: 0, count: Counter.allCases.count)
            for c in Counter.allCases { counters[c.rawValue] = tg_atomic_load_u64(counter(slot, c)) }
            let keyLength = min(Int(raw.load(fromByteOffset: 16, as: UInt16.self)), Self.maxNameBytes)
            let modelLength = min(Int(raw.load(fromByteOffset: 18, as: UInt16.self)), Self.maxNameBytes)
            out.append(Series(slot: slot, intervalStart: raw.load(fromByteOffset: 8, as: Int64.self),
                              key: String(decoding: UnsafeRawBufferPointer(start: raw + Self.keyOffset, count: keyLength), as: UTF8.self),
                              model: String(decoding: UnsafeRawBufferPointer(start: raw + Self.modelOffset, count: modelLength), as: UTF8.self),
                              counters: counters))
        }
        return out
    }

    /// Frees a series' slot (controller side) if it still holds `series` with exactly the
    /// requests counted there — i.e. everything in it has been uploaded — and its interval
    /// ended more than `reclaimGraceSeconds` before `nowSeconds`. Returns whether it did.
    @discardableResult
    public func reclaim(_ series: Series, nowSeconds: Int64) -> Bool {
        guard series.slot >= 0, series.slot < capacity,
              series.intervalStart + intervalSeconds + Self.reclaimGraceSeconds < nowSeconds else { return false }
        let state = word(series.slot, 0)
        var expected = tg_atomic_load_u64(state)
        guard expected >= 2, UnsafeRawPointer(slotBase(series.slot)).load(fromByteOffset: 8, as: Int64.self) == series.intervalStart,
              tg_atomic_load_u64(counter(series.slot, .requests)) == series[.requests],
              tg_atomic_cas_u64(state, &expected, 1) else { return false }
        for c in Counter.allCases { tg_atomic_store_u64(counter(series.slot, c), 0) }
        tg_atomic_store_u64(state, 0)
        _ = tg_atomic_add_u64(reclaimedWord, 1)
        return true
    }
}
