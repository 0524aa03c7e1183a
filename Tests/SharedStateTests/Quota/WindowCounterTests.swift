import Testing
@testable import SharedState

@Suite struct WindowCounterTests {
    @Test func admitsUpToTheLimitInclusive() {
        let w = WindowCounter(limit: 1_000_000)  // $1 in micro-dollars
        let a = w.decide(count: 999_000, cost: 1_000, now: 10, windowEnd: 110)
        #expect(a.admitted && a.newCount == 1_000_000 && a.remaining == 0 && a.resetAfter == 100)
        let b = w.decide(count: 1_000_000, cost: 1, now: 10, windowEnd: 110)
        #expect(!b.admitted && b.retryAfter == 100 && b.newCount == 1_000_000)
        #expect(w.decide(count: 0, cost: 1_000_001, now: 10, windowEnd: 110).retryAfter == nil)
    }

    @Test func overflowSafe() {
        let w = WindowCounter(limit: .max)
        #expect(!w.decide(count: .max - 1, cost: 2, now: 0, windowEnd: 0).admitted)
        #expect(w.decide(count: .max - 1, cost: 1, now: 5, windowEnd: 0).resetAfter == 0)
        // A count beyond the limit (foreign consumption from other pods) rejects everything.
        #expect(WindowCounter(limit: 10).decide(count: 15, cost: 0, now: 0, windowEnd: 1).admitted == true)
        #expect(WindowCounter(limit: 10).decide(count: 15, cost: 1, now: 0, windowEnd: 1).remaining == 0)
    }

    @Test func calendarDaysAndMonths() {
        // 2024-02-29 23:30:00 UTC
        let t: Int64 = 1_709_249_400
        let dayUTC = CalendarWindow.containing(unixSeconds: t, unit: .day, utcOffsetSeconds: 0)
        #expect(dayUTC.start == 1_709_164_800 && dayUTC.end == 1_709_251_200)
        // In UTC+1 it is already March 1st.
        let dayPlus1 = CalendarWindow.containing(unixSeconds: t, unit: .day, utcOffsetSeconds: 3_600)
        #expect(dayPlus1.id == dayUTC.id + 1)
        #expect(dayPlus1.start == 1_709_247_600)
        let feb = CalendarWindow.containing(unixSeconds: t, unit: .month, utcOffsetSeconds: 0)
        #expect(feb.id == (2024 - 1970) * 12 + 1)
        #expect(feb.start == 1_706_745_600 && feb.end == 1_709_251_200)  // 2024-02-01 .. 2024-03-01
        let march = CalendarWindow.containing(unixSeconds: t, unit: .month, utcOffsetSeconds: 3_600)
        #expect(march.id == feb.id + 1 && march.end == 1_711_929_600 - 3_600)
        // Before 1970 and across a year end.
        let dec = CalendarWindow.containing(unixSeconds: -1, unit: .month, utcOffsetSeconds: 0)
        #expect(dec.id == -1 && dec.start == -2_678_400 && dec.end == 0)
    }

    @Test func timeZonesResolve() {
        #expect(QuotaTimeZone(identifier: "UTC")?.utcOffset(atUnixSeconds: 0) == 0)
        let berlin = QuotaTimeZone(identifier: "Europe/Berlin")
        #expect(berlin?.utcOffset(atUnixSeconds: 1_709_249_400) == 3_600)  // winter
        #expect(berlin?.utcOffset(atUnixSeconds: 1_719_792_000) == 7_200)  // summer
        #expect(QuotaTimeZone(identifier: "Mars/Olympus") == nil)
    }
}
