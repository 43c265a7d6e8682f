/// RFC 3339 timestamps (`2026-11-20T09:30:00+08:00`, `2026-11-20T01:30:00.123Z`), read strictly.
///
/// Foundation's `ISO8601DateFormatter` is lenient where it matters here: it reads a year past
/// 9999 or before 1 as 1970, and an offset such as `+99:00` as another one. A correction's
/// `effectiveAt` read so would be signed, pushed and counted against Article 41 at a time the
/// provider never wrote. This reader takes exactly RFC 3339's `date-time` and refuses the rest.
public enum InternetTime {
    /// Milliseconds since 1970-01-01T00:00:00Z of an RFC 3339 `date-time`, fractional seconds
    /// rounded to the millisecond; `nil` when `text` is not one, names no real date or time, or
    /// lies before 1970 (a change carries its times as milliseconds since then).
    ///
    /// `T` and `Z` may be written in lower case (RFC 3339 §5.6); an offset is `Z` or `±HH:MM`
    /// with hours 00–23 and minutes 00–59; a second of 60 (a leap second, in a minute 59) counts
    /// as the next minute's first. Fractional digits past the millisecond round half up, in
    /// decimal, not through a binary fraction.
    public static func milliseconds(_ text: some StringProtocol) -> UInt64? {
        let b = Array(text.utf8)
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
              b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
              let date = CivilDate(iso: String(decoding: b[0..<10], as: UTF8.self)),
              let hour = CivilDate.digits(b[11..<13]), let minute = CivilDate.digits(b[14..<16]), let second = CivilDate.digits(b[17..<19]),
              hour <= 23, minute <= 59, second <= 59 || (second == 60 && minute == 59) else { return nil }
        var i = 19
        // Milliseconds from the first three fractional digits; the fourth rounds them.
        var millis = 0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                let digit = Int(b[i] - 48), place = i - start
                if place < 3 { millis = millis * 10 + digit } else if place == 3, digit >= 5 { millis += 1 }
                i += 1
            }
            guard i > start else { return nil }
            for _ in (i - start)..<max(i - start, 3) { millis *= 10 }
        }
        guard i < b.count else { return nil }
        var offset = 0
        switch b[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard i + 1 == b.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard i + 6 == b.count, b[i + 3] == UInt8(ascii: ":"),
                  let h = CivilDate.digits(b[(i + 1)..<(i + 3)]), let m = CivilDate.digits(b[(i + 4)..<(i + 6)]), h <= 23, m <= 59 else { return nil }
            offset = (h * 60 + m) * 60 * (b[i] == UInt8(ascii: "-") ? -1 : 1)
        default:
            return nil
        }
        let seconds = date.daysSinceEpoch * 86_400 + hour * 3600 + minute * 60 + second - offset
        return seconds >= 0 ? UInt64(seconds * 1000 + millis) : nil
    }
}
