#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// UTC timestamps without Foundation's formatters (they run per log line and per signed or
/// rate-limited request): RFC 3339 (`2026-11-25T12:00:00Z`, optionally with milliseconds)
/// and the ISO 8601 basic form AWS signs (`20261125T120000Z`).
public enum UTCTime {
    /// `2026-11-25T12:00:00Z`, or `…:00.123Z` with `milliseconds`.
    public static func rfc3339(_ unixSeconds: Int, milliseconds: Int? = nil) -> String {
        let p = parts(unixSeconds)
        var out = pad(p.tm_year + 1900, 4) + "-" + pad(p.tm_mon + 1, 2) + "-" + pad(p.tm_mday, 2) + "T"
            + pad(p.tm_hour, 2) + ":" + pad(p.tm_min, 2) + ":" + pad(p.tm_sec, 2)
        if let milliseconds { out += "." + pad(Int32(milliseconds), 3) }
        return out + "Z"
    }

    /// `20261125T120000Z`.
    public static func basic(_ unixSeconds: Int) -> String {
        let p = parts(unixSeconds)
        return pad(p.tm_year + 1900, 4) + pad(p.tm_mon + 1, 2) + pad(p.tm_mday, 2) + "T"
            + pad(p.tm_hour, 2) + pad(p.tm_min, 2) + pad(p.tm_sec, 2) + "Z"
    }

    private static func parts(_ unixSeconds: Int) -> tm {
        var t = time_t(unixSeconds)
        var p = tm()
        gmtime_r(&t, &p)
        return p
    }

    private static func pad(_ v: Int32, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
