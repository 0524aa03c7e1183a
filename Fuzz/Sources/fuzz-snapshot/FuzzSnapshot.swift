import Config
import Crypto
import FuzzSupport
import Worker

/// SnapshotFile.decode and what the worker builds from it: the worker maps whatever file is
/// at the snapshot path, so any bytes must give a snapshot or a typed error, and a decoded
/// config must compile into a RuntimeConfig or a typed error (a trap there is a worker crash
/// loop). Selector bit 0 picks raw bytes (the header checks) or a valid header with a correct
/// checksum around the payload (the JSON config decoder behind them). A decoded snapshot
/// re-encodes and decodes equal.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSnapshot(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let bytes = input.selector & 1 == 0 ? input.payload : frame(input.payload, generation: UInt64(input.chunking))
    let snapshot: Snapshot
    do {
        snapshot = try bytes.withUnsafeBytes { raw throws(SnapshotError) in try SnapshotFile.decode(raw) }
    } catch {
        _ = "\(error)"
        return 0
    }
    guard let again = try? SnapshotFile.encode(snapshot.config, generation: snapshot.generation, createdAtUnixMs: snapshot.createdAtUnixMs) else {
        fuzzCheck(false, "a decoded config does not encode")
        return 0
    }
    let back = try? again.withUnsafeBytes { raw throws(SnapshotError) in try SnapshotFile.decode(raw) }
    fuzzCheck(back == snapshot, "a snapshot does not survive encode/decode")
    // The WAF compiles rule files named by the config: not the decoder's business, and slow.
    if !snapshot.config.waf.enabled {
        _ = try? RuntimeConfig(snapshot.config, generation: snapshot.generation)
    }
    return 0
}

/// The header `SnapshotFile.encode` writes, around arbitrary payload bytes.
func frame(_ payload: [UInt8], generation: UInt64) -> [UInt8] {
    var out = Array("TGSNAP".utf8) + [0, 0]
    func append<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
    append(SnapshotFile.formatVersion)
    append(UInt32(SnapshotFile.headerLength))
    append(generation)
    append(UInt64(payload.count))
    append(UInt64(1_700_000_000_000))
    out += Array(SHA256.hash(data: payload))
    return out + payload
}
