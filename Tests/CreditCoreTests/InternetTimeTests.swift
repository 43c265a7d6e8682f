import CreditCore
import Testing

/// RFC 3339 read strictly: what Foundation's reader took as another time (a year past 9999 as
/// 1970, `+99:00` as `+09:00`) is refused, so no provider's `effectiveAt` is stored as a time it
/// never wrote.
@Suite struct InternetTimeTests {
    @Test(arguments: [
        ("2026-11-20T09:30:00+08:00", 1_795_138_200_000 as UInt64),
        ("2026-11-20T01:30:00.123Z", 1_795_138_200_123),
        ("2026-11-20T01:30:00.1234567z", 1_795_138_200_123),
        ("2026-11-20T01:30:00.9999Z", 1_795_138_201_000),
        ("2026-11-19T20:30:00-05:00", 1_795_138_200_000),
        ("1970-01-01T00:00:00Z", 0),
        ("2024-02-29t12:00:00Z", 1_709_208_000_000),
        ("9999-12-31T23:59:59+23:59", 253_402_214_459_000),
        // A leap second is the next minute's first.
        ("2016-12-31T23:59:60Z", 1_483_228_800_000),
    ])
    func aTimestampOfRFC3339IsReadToTheMillisecond(text: String, millis: UInt64) {
        #expect(InternetTime.milliseconds(text) == millis, "\(text)")
    }

    @Test(arguments: [
        "9999999-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "-001-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z", "1970-01-01T07:59:59+08:00",
        "2026-12-03T00:00:00+99:00", "2026-12-03T00:00:00+24:00", "2026-12-03T00:00:00+12:99", "2026-12-03T00:00:00+0800",
        "2026-12-03T00:00:00", "2026-12-03", "2026-12-03 00:00:00Z", "2026-13-45T99:99:99Z", "2026-02-29T00:00:00Z",
        "2026-12-03T24:00:00Z", "2026-12-03T00:60:00Z", "2026-12-03T00:00:61Z", "2026-12-03T00:00:00.Z",
        "2026-12-03T00:00:00ZZ", "2026-12-03T00:00:00+08:00 ", " 2026-12-03T00:00:00Z", "２０２６-12-03T00:00:00Z", "",
    ])
    func anythingElseIsRefused(text: String) {
        #expect(InternetTime.milliseconds(text) == nil, "\(text)")
    }
}
