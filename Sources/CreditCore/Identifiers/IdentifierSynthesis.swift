/// Building valid identifiers from their parts, for synthetic data (the demo, tests,
/// benchmarks). Real identifiers are only ever validated, never invented.
extension ResidentIdentityNumber {
    /// The 18-character number for a division, birth date and three-digit sequence (odd for men).
    public static func compose(division: String, birthDate: CivilDate, sequence: Int) -> String {
        let body = division + String(format: "%04d%02d%02d%03d", birthDate.year, birthDate.month, birthDate.day, sequence % 1000)
        return body + String(checkCharacter(for: Array(body.utf8)))
    }
}

extension UnifiedSocialCreditCode {
    /// The 18-character code for an authority/type pair, a division and an 8-character
    /// organization-code body drawn from the USCC alphabet.
    public static func compose(authority: Character = "9", type: Character = "1", division: String, organizationBody: String) -> String {
        let org = Array(organizationBody)
        let body = [authority, type] + Array(division) + org + [OrganizationCode.checkCharacter(for: org[0..<8])]
        return String(body) + String(checkCharacter(for: body))
    }
}

import Foundation
