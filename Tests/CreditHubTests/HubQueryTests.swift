@testable import CreditHub
import Testing

/// How the hub reads the numbers in its query strings (`Protocol/hub-api.md`).
struct HubQueryTests {
    /// `wait=S`: above 60 is 60, however large; negative, missing or not an integer is 0.
    @Test func aWaitIsHeldToSixtySecondsAndAnythingElseIsZero() {
        for (text, seconds) in [("30", 30), ("60", 60), ("61", 60), ("99999999999999999999999", 60), ("0", 0),
                                ("", 0), ("-5", 0), ("1.5", 0), ("+3", 0), (" 3", 0), ("３", 0), ("0x10", 0)] {
            #expect(HubAPI.waitSeconds(text) == seconds, "wait=\(text)")
        }
        #expect(HubAPI.waitSeconds(nil) == 0)
    }

    /// Positions: decimal digits naming 0…2⁶³ − 1, no sign, no leading zero (the form the
    /// request signature covers, so one request has one spelling).
    @Test func aPositionHasOneSpelling() {
        #expect(HubAPI.decimal("0") == 0 && HubAPI.decimal("42") == 42)
        #expect(HubAPI.decimal("9223372036854775807") == UInt64(Int64.max))
        for text in ["", "-1", "+1", "042", "9223372036854775808", "1e3", "٣", "1 "] {
            #expect(HubAPI.decimal(Substring(text)) == nil, "'\(text)'")
        }
    }
}
