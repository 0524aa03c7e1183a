import Foundation

/// The UTC offset of a calendar limit's time zone, resolved without Foundation on the hot path
/// for fixed-offset zones (UTC and friends) and with one `secondsFromGMT(for:)` call for zones
/// with daylight saving time.
public struct QuotaTimeZone: Sendable, Hashable {
    private let zone: TimeZone
    private let fixedOffset: Int32?

    public init?(identifier: String) {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        self.zone = zone
        // A zone with no DST transition ahead keeps its offset (good enough for a gateway
        // whose config is reloaded far more often than zones change their rules).
        fixedOffset = zone.nextDaylightSavingTimeTransition(after: Date()) == nil ? Int32(zone.secondsFromGMT()) : nil
    }

    /// The offset in seconds at `unixSeconds`.
    public func utcOffset(atUnixSeconds unixSeconds: Int64) -> Int32 {
        if let fixedOffset { return fixedOffset }
        return Int32(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(unixSeconds))))
    }
}
