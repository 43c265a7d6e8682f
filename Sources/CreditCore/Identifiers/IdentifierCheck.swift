/// The kinds of identifier a subject can be matched by (Article 19).
public enum IdentifierKind: String, Sendable, Codable, CaseIterable {
    case residentID = "resident-id"
    case uscc
}

/// The outcome of checking one value, in the shape the CLI and the API report it.
public struct IdentifierCheck: Sendable, Equatable, Codable {
    public var input: String
    public var valid: Bool
    public var kind: IdentifierKind
    /// The canonical form, when valid.
    public var normalized: String?
    /// Machine-readable failure code, when invalid.
    public var code: String?
    /// Plain-language reason, when invalid.
    public var reason: String?
    /// A caveat on a value accepted anyway (a legacy credit code).
    public var warning: String?
    /// Facts derived from a valid value.
    public var details: [String: String]?

    /// Checks `input` as `kind`, or, when `kind` is nil, as whichever kind it most plausibly is:
    /// the kind it is valid as, else the kind whose validation got furthest before failing.
    public static func check(_ input: String, as kind: IdentifierKind? = nil, context: IdentifierContext) -> IdentifierCheck {
        switch kind {
        case .residentID: return residentID(input, context: context)
        case .uscc: return uscc(input, context: context)
        case nil:
            let asResident = residentID(input, context: context)
            if asResident.valid { return asResident }
            let asUSCC = uscc(input, context: context)
            if asUSCC.valid { return asUSCC }
            // Both failed: report the kind that got furthest; digits-only values lean to resident IDs.
            let trimmed = input.trimmingWhitespace().asciiUppercased()
            let lettersBesidesX = trimmed.contains { $0.isLetter && $0 != "X" }
            let rs = stage(of: input, .residentID, context), us = stage(of: input, .uscc, context)
            if rs != us { return rs > us ? asResident : asUSCC }
            return lettersBesidesX ? asUSCC : asResident
        }
    }

    private static func stage(of input: String, _ kind: IdentifierKind, _ context: IdentifierContext) -> Int {
        do {
            switch kind {
            case .residentID: _ = try ResidentIdentityNumber.parse(input, context: context)
            case .uscc: _ = try UnifiedSocialCreditCode.parse(input, context: context)
            }
            return 3
        } catch let error as any IdentifierFailure {
            return error.stage
        } catch { return -1 }
    }

    private static func residentID(_ input: String, context: IdentifierContext) -> IdentifierCheck {
        do {
            let id = try ResidentIdentityNumber.parse(input, context: context)
            var details = ["birthDate": id.birthDate.description, "sex": id.sex.rawValue, "division": id.divisionCode]
            if let name = context.divisions.name(of: id.divisionCode), !name.isEmpty { details["divisionName"] = name }
            if id.wasLegacyForm { details["convertedFrom"] = "15-digit" }
            return IdentifierCheck(input: input, valid: true, kind: .residentID, normalized: id.value, details: details)
        } catch {
            return IdentifierCheck(input: input, valid: false, kind: .residentID, code: error.code, reason: error.reason)
        }
    }

    private static func uscc(_ input: String, context: IdentifierContext) -> IdentifierCheck {
        do {
            let code = try UnifiedSocialCreditCode.parse(input, context: context)
            let details = ["registrationAuthority": code.registrationAuthority.name,
                           "organizationType": code.organizationTypeName,
                           "division": code.divisionCode, "organizationCode": code.organizationCode]
            return IdentifierCheck(input: input, valid: true, kind: .uscc, normalized: code.value,
                                   warning: code.warning, details: details)
        } catch {
            return IdentifierCheck(input: input, valid: false, kind: .uscc, code: error.code, reason: error.reason)
        }
    }
}
