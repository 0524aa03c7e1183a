/// Conversions and arithmetic that clamp instead of trapping.
///
/// Swift traps on integer overflow and on converting a Double that does not fit (or is NaN)
/// to an integer; any such operation on a number a client, an upstream or a config file chose
/// is a crash bug. Numbers from outside go through these helpers, which pin the result to the
/// nearest representable value (NaN to the lower bound) and say whether they had to.
public enum Saturating {
    /// `a + b`, pinned to `Int.min...Int.max`.
    @inlinable
    public static func add(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        if !overflow { return sum }
        return b > 0 ? .max : .min
    }

    /// `a + b`, pinned to `UInt64.max`.
    @inlinable
    public static func add(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }

    /// `a * b`, pinned to `UInt64.max`.
    @inlinable
    public static func multiply(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? .max : product
    }

    /// `value` pinned to `range`.
    @inlinable
    public static func clamp<T: Comparable>(_ value: T, to range: ClosedRange<T>) -> T {
        min(max(value, range.lowerBound), range.upperBound)
    }

    /// `value` rounded toward zero and pinned to `range`; NaN becomes the lower bound.
    @inlinable
    public static func int(_ value: Double, in range: ClosedRange<Int> = Int.min...Int.max) -> Int {
        guard !value.isNaN else { return range.lowerBound }
        // Comparing in Double: Int.max is not exactly representable, and the next Double up
        // (2^63) would trap in `Int(_:)`; `Double(upper)` rounds to 2^63, so test `>=`.
        if value >= Double(range.upperBound) { return range.upperBound }
        if value <= Double(range.lowerBound) { return range.lowerBound }
        return Int(value)
    }

    /// `value` rounded up and pinned to `0...upper`; NaN and negatives become 0.
    @inlinable
    public static func uint64RoundingUp(_ value: Double, upper: UInt64 = .max) -> UInt64 {
        guard value > 0 else { return 0 }  // also false for NaN
        let up = value.rounded(.up)
        if up >= Double(upper) { return upper }
        return UInt64(up)
    }

    /// `value` as an Int64, pinned to `Int64.max`.
    @inlinable
    public static func int64(_ value: UInt64) -> Int64 {
        value > UInt64(Int64.max) ? .max : Int64(value)
    }

    /// `value` as a UInt64; negatives become 0.
    @inlinable
    public static func uint64(_ value: Int) -> UInt64 {
        value < 0 ? 0 : UInt64(value)
    }
}
