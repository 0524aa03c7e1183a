/// Calendar windows (a day or a month in some UTC offset) as pure integer arithmetic, so the
/// hot path never touches Foundation's `Calendar`. A window has a stable id (days or months
/// since 1970-01-01 in local time), which goes into the slot key: a new day is a new slot.
public struct CalendarWindow: Sendable, Hashable {
    public enum Unit: String, Sendable, Hashable {
        case day
        case month
    }

    /// Days (unit .day) or months (unit .month) since 1970-01 in local time.
    public var id: Int64
    /// Window bounds in Unix seconds, `[start, end)`.
    public var start: Int64
    public var end: Int64

    /// The window containing `unixSeconds`, for a local time `utcOffsetSeconds` ahead of UTC.
    /// (The offset is the one in force at `unixSeconds`; on a DST change day the window may be
    /// 23 or 25 hours long in reality, while this computes 24 — the boundary is off by at most
    /// the DST shift on those two days a year.)
    public static func containing(unixSeconds: Int64, unit: Unit, utcOffsetSeconds: Int32) -> CalendarWindow {
        let offset = Int64(utcOffsetSeconds)
        let local = unixSeconds + offset
        let day = floorDiv(local, 86_400)
        switch unit {
        case .day:
            return CalendarWindow(id: day, start: day * 86_400 - offset, end: (day + 1) * 86_400 - offset)
        case .month:
            let (y, m, _) = civil(fromDays: day)
            let id = (y - 1970) * 12 + (m - 1)
            let first = days(fromCivilYear: y, month: m, day: 1)
            let next = m == 12 ? days(fromCivilYear: y + 1, month: 1, day: 1) : days(fromCivilYear: y, month: m + 1, day: 1)
            return CalendarWindow(id: id, start: first * 86_400 - offset, end: next * 86_400 - offset)
        }
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// Howard Hinnant's `civil_from_days`: proleptic Gregorian date of a day count since 1970.
    static func civil(fromDays z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Howard Hinnant's `days_from_civil`.
    static func days(fromCivilYear y0: Int64, month m: Int64, day d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = m > 2 ? m - 3 : m + 9
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
