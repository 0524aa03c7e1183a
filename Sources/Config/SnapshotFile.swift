#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Foundation

/// One published config generation as a worker reads it.
public struct Snapshot: Sendable, Equatable {
    public var generation: UInt64
    public var createdAtUnixMs: UInt64
    public var config: GatewayConfig
}

public enum SnapshotError: Error, Equatable, CustomStringConvertible {
    case io(String)
    case tooShort(Int)
    case badMagic
    case unsupportedVersion(UInt32)
    case lengthMismatch(expected: UInt64, actual: UInt64)
    case checksumMismatch
    case payload(String)

    public var description: String {
        switch self {
        case .io(let what): return "snapshot I/O error: \(what)"
        case .tooShort(let n): return "snapshot is \(n) bytes, shorter than its \(SnapshotFile.headerLength)-byte header"
        case .badMagic: return "not a Tollgate snapshot (bad magic)"
        case .unsupportedVersion(let v): return "snapshot format version \(v) is not supported (this Tollgate reads \(SnapshotFile.formatVersion))"
        case .lengthMismatch(let e, let a): return "snapshot payload is \(a) bytes, header says \(e) (truncated or trailing bytes)"
        case .checksumMismatch: return "snapshot payload checksum mismatch (corrupt file)"
        case .payload(let why): return "snapshot payload cannot be decoded: \(why)"
        }
    }
}

/// The snapshot file: how a compiled config travels from the controller to the workers.
///
/// Layout (little-endian), a fixed 72-byte header then the payload:
/// ```
/// 0   magic "TGSNAP\0\0"          8 bytes
/// 8   format version (1)          u32
/// 12  header length (72)          u32
/// 16  generation                  u64
/// 24  payload length              u64
/// 32  created at (unix ms)        u64
/// 40  SHA-256 of the payload      32 bytes
/// 72  payload: GatewayConfig as JSON (sorted keys)
/// ```
/// A reader refuses a file whose magic, version, header length, total length or checksum is
/// off, so a truncated, corrupt or foreign file can never become a worker's config. The file
/// holds resolved credentials: it is written with mode 0600.
public enum SnapshotFile {
    public static let formatVersion: UInt32 = 1
    public static let headerLength = 72
    static let magic: [UInt8] = Array("TGSNAP".utf8) + [0, 0]

    public static func encode(_ config: GatewayConfig, generation: UInt64, createdAtUnixMs: UInt64) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let payload = Array(try encoder.encode(config))
        var out: [UInt8] = []
        out.reserveCapacity(headerLength + payload.count)
        out += magic
        append(formatVersion, to: &out)
        append(UInt32(headerLength), to: &out)
        append(generation, to: &out)
        append(UInt64(payload.count), to: &out)
        append(createdAtUnixMs, to: &out)
        out += Array(SHA256.hash(data: payload))
        out += payload
        return out
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(SnapshotError) -> Snapshot {
        guard bytes.count >= headerLength else { throw .tooShort(bytes.count) }
        guard bytes.prefix(8).elementsEqual(magic) else { throw .badMagic }
        let version = read(UInt32.self, bytes, 8)
        guard version == formatVersion else { throw .unsupportedVersion(version) }
        guard read(UInt32.self, bytes, 12) == UInt32(headerLength) else { throw .unsupportedVersion(version) }
        let generation = read(UInt64.self, bytes, 16)
        let length = read(UInt64.self, bytes, 24)
        let created = read(UInt64.self, bytes, 32)
        let actual = UInt64(bytes.count - headerLength)
        guard length == actual else { throw .lengthMismatch(expected: length, actual: actual) }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[headerLength...])
        guard SHA256.hash(data: payload).elementsEqual(bytes[40..<72]) else { throw .checksumMismatch }
        do {
            let config = try JSONDecoder().decode(GatewayConfig.self, from: Data(payload))
            return Snapshot(generation: generation, createdAtUnixMs: created, config: config)
        } catch {
            throw .payload("\(error)")
        }
    }

    /// Writes durably and atomically: temp file (0600) in the same directory, fsync, rename
    /// over `path`, fsync of the directory. Readers see the old file or the new one, never half.
    public static func write(_ config: GatewayConfig, generation: UInt64, to path: String) throws {
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        let bytes = try encode(config, generation: generation, createdAtUnixMs: now)
        let tmp = path + ".tmp.\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SnapshotError.io("open \(tmp): \(String(cString: strerror(errno)))") }
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        do {
            defer { close(fd) }
            try bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw SnapshotError.io("write \(tmp): \(String(cString: strerror(errno)))")
                    }
                    offset += n
                }
            }
            guard fsync(fd) == 0 else { throw SnapshotError.io("fsync \(tmp): \(String(cString: strerror(errno)))") }
        }
        guard rename(tmp, path) == 0 else { throw SnapshotError.io("rename to \(path): \(String(cString: strerror(errno)))") }
        ok = true
        let dir = (path as NSString).deletingLastPathComponent
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }

    /// Maps the file read-only and decodes it.
    public static func read(path: String) throws(SnapshotError) -> Snapshot {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io("fstat \(path): \(String(cString: strerror(errno)))") }
        let size = Int(st.st_size)
        guard size >= headerLength else { throw .tooShort(size) }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw .io("mmap \(path): \(String(cString: strerror(errno)))")
        }
        defer { munmap(base, size) }
        return try decode(UnsafeRawBufferPointer(start: base, count: size))
    }

    private static func append<T: FixedWidthInteger>(_ v: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out += $0 }
    }

    private static func read<T: FixedWidthInteger>(_: T.Type, _ bytes: UnsafeRawBufferPointer, _ offset: Int) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
