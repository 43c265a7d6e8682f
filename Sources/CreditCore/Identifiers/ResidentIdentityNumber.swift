/// A resident identity number (居民身份证号码), GB 11643-1999, validated and normalized.
///
/// Article 19 makes it the matching key for natural persons, so two spellings of one number
/// (lowercase `x`, the 15-digit first-generation form, stray spaces) must normalize to the same
/// 18 characters or a person's records would split.
public struct ResidentIdentityNumber: Hashable, Sendable, CustomStringConvertible {
    /// The canonical 18-character form.
    public let value: String
    /// The six-digit division code of the county of first registration.
    public let divisionCode: String
    public let birthDate: CivilDate
    public let sex: Sex
    /// Whether the input was the 15-digit legacy form.
    public let wasLegacyForm: Bool

    public enum Sex: String, Sendable, Codable { case male, female }

    public var description: String { value }

    /// ISO 7064 MOD 11-2 weights for positions 1…17 (2^(18−i) mod 11).
    static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    static let checkCharacters: [Character] = ["1", "0", "X", "9", "8", "7", "6", "5", "4", "3", "2"]
    static let earliestBirthDate = CivilDate(year: 1850, month: 1, day: 1)!

    /// The MOD 11-2 check character for 17 leading digits.
    public static func checkCharacter(for body: some Sequence<UInt8>) -> Character {
        var sum = 0
        for (byte, weight) in zip(body, weights) { sum += Int(byte - 48) * weight }
        return checkCharacters[sum % 11]
    }

    /// Validates and normalizes `input`.
    ///
    /// Surrounding whitespace is trimmed and a lowercase `x` upper-cased. A 15-digit legacy number
    /// is converted by inserting `19` before its two-digit year and appending the check character.
    /// - Throws: ``ResidentIDError`` saying exactly which rule the value breaks.
    public static func parse(_ input: String, context: IdentifierContext) throws(ResidentIDError) -> ResidentIdentityNumber {
        let trimmed = input.trimmingWhitespace().asciiUppercased()
        guard !trimmed.isEmpty else { throw .empty }
        let chars = Array(trimmed)
        guard chars.count == 18 || chars.count == 15 else { throw .length(chars.count) }
        for (i, c) in chars.enumerated() {
            let lastOf18 = chars.count == 18 && i == 17
            guard c.isASCII, c.isNumber || (lastOf18 && c == "X") else {
                throw .invalidCharacter(position: i + 1, character: c)
            }
        }
        let legacy = chars.count == 15
        let body17: [UInt8] = legacy
            ? Array((String(chars[0..<6]) + "19" + String(chars[6..<15])).utf8)
            : Array(String(chars[0..<17]).utf8)

        let division = String(decoding: body17[0..<6], as: UTF8.self)
        let birthText = String(decoding: body17[6..<14], as: UTF8.self)
        guard let birth = CivilDate(compact: birthText) else { throw .invalidBirthDate(birthText) }
        guard birth >= earliestBirthDate else { throw .birthDateTooEarly(birth) }
        guard birth <= context.today else { throw .birthDateInFuture(birth) }
        guard context.divisions.contains(division) else { throw .unknownDivision(division) }

        let expected = checkCharacter(for: body17)
        if !legacy, chars[17] != expected { throw .checkCharacter(expected: expected, found: chars[17]) }

        let sequenceDigit = Int(body17[16] - 48)
        return ResidentIdentityNumber(
            value: String(decoding: body17, as: UTF8.self) + String(expected),
            divisionCode: division, birthDate: birth,
            sex: sequenceDigit % 2 == 1 ? .male : .female, wasLegacyForm: legacy)
    }

    /// The holder's age in whole years on `date`.
    public func age(on date: CivilDate) -> Int { birthDate.wholeYears(until: date) }
}

/// Why a value is not a valid resident identity number.
public enum ResidentIDError: Error, Equatable, Sendable {
    case empty
    case length(Int)
    case invalidCharacter(position: Int, character: Character)
    case invalidBirthDate(String)
    case birthDateTooEarly(CivilDate)
    case birthDateInFuture(CivilDate)
    case unknownDivision(String)
    case checkCharacter(expected: Character, found: Character)
}

extension ResidentIDError: IdentifierFailure {
    public var code: String {
        switch self {
        case .empty: "empty"
        case .length: "length"
        case .invalidCharacter: "format"
        case .invalidBirthDate, .birthDateTooEarly, .birthDateInFuture: "birth-date"
        case .unknownDivision: "division-code"
        case .checkCharacter: "check-character"
        }
    }

    public var reason: String {
        switch self {
        case .empty: "the identity number is empty"
        case let .length(n): "an identity number has 18 characters (or 15 in the old form), this one has \(n)"
        case let .invalidCharacter(position, character):
            "character \(position) is '\(character)'; only digits are allowed, and X only as the 18th character"
        case let .invalidBirthDate(text): "the birth date \(text) (characters 7–14) is not a real calendar date"
        case let .birthDateTooEarly(date): "the birth date \(date) is before 1850-01-01"
        case let .birthDateInFuture(date): "the birth date \(date) is in the future"
        case let .unknownDivision(code):
            "the first six digits \(code) are not a division code in use since 1981, nor a residence-permit prefix"
        case let .checkCharacter(expected, found):
            "the check character is '\(found)' but the first 17 digits give '\(expected)'; a digit was probably mistyped"
        }
    }

    public var stage: Int {
        switch self {
        case .empty, .length, .invalidCharacter: 0
        case .invalidBirthDate, .birthDateTooEarly, .birthDateInFuture, .unknownDivision: 1
        case .checkCharacter: 2
        }
    }
}
