/// What identifier validation needs from the outside world, passed in so that the core does no
/// I/O and tests can fix "today".
public struct IdentifierContext: Sendable {
    /// Known division codes (GB/T 2260, since 1981).
    public var divisions: DivisionCodes
    /// Today's date in China; birth dates after it are refused.
    public var today: CivilDate
    /// Codes issued in early pilots that are legal yet fail the GB 32100 check, accepted with a
    /// warning rather than blocking genuine records from government units.
    public var acceptedLegacyCodes: Set<String>

    public init(divisions: DivisionCodes, today: CivilDate, acceptedLegacyCodes: Set<String> = []) {
        self.divisions = divisions
        self.today = today
        self.acceptedLegacyCodes = acceptedLegacyCodes
    }
}
