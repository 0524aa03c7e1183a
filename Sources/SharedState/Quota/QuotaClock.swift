#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock time for the quota table. Wall (not monotonic) time because table slots are
/// shared between processes and calendar windows and Redis keys between pods; the GCRA math
/// tolerates steps backwards (see `GCRA`).
public enum QuotaClock {
    @inline(__always)
    public static func unixNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
