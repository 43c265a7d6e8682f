/// A unified social credit code (统一社会信用代码), GB 32100-2015, validated and normalized.
///
/// Article 19 makes it the sole matching key for legal persons and unincorporated organizations.
/// Layout: 1 registration authority · 2 organization type · 3–8 division code · 9–17 the GB 11714
/// organization code (8 body characters and its own check) · 18 the MOD 31 check character.
public struct UnifiedSocialCreditCode: Hashable, Sendable, CustomStringConvertible {
    /// The canonical 18-character upper-case form.
    public let value: String
    public let registrationAuthority: RegistrationAuthority
    /// The organization-type character (position 2).
    public let organizationType: Character
    /// Positions 3–8: the division code of the registering authority.
    public let divisionCode: String
    /// Positions 9–17: the GB 11714 organization code.
    public let organizationCode: String
    /// Set when the code fails a check yet is on the list of legally issued legacy codes.
    public let warning: String?

    public var description: String { value }

    /// The GB 32100 alphabet, value 0…30: digits and capitals without I, O, Z, S, V.
    public static let alphabet: [Character] = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
    static let values: [Character: Int] = Dictionary(uniqueKeysWithValues: alphabet.enumerated().map { ($1, $0) })
    static let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

    /// The MOD 31 check character for the first 17 characters (which must be in the alphabet).
    public static func checkCharacter(for body: [Character]) -> Character {
        var sum = 0
        for (c, w) in zip(body, weights) { sum += values[c]! * w }
        return alphabet[(31 - sum % 31) % 31]
    }

    /// Validates and normalizes `input`: trims white space, upper-cases letters.
    /// - Throws: ``USCCError`` saying exactly which rule the value breaks.
    public static func parse(_ input: String, context: IdentifierContext) throws(USCCError) -> UnifiedSocialCreditCode {
        let normalized = input.trimmingWhitespace().asciiUppercased()
        guard !normalized.isEmpty else { throw .empty }
        // Every valid code is 18 ASCII characters: checked on its bytes, in place (a node checks
        // three codes in every punishment record). Anything else takes the character path,
        // which reports positions as a clerk counts them.
        let checked: Result<UnifiedSocialCreditCode, USCCError>? = normalized.withUTF8Bytes { bytes in
            guard bytes.count == 18, bytes.allSatisfy({ $0 < 0x80 && byteValues[Int($0)] >= 0 }) else { return nil }
            return Result { () throws(USCCError) in try parse(ascii: bytes, normalized: normalized, context: context) }
        }
        if let checked { return try checked.get() }
        let chars = Array(normalized)
        guard chars.count == 18 else { throw .length(chars.count) }
        for (i, c) in chars.enumerated() where values[c] == nil { throw .invalidCharacter(position: i + 1, character: c) }
        throw .length(chars.count) // unreachable: 18 characters of the alphabet are 18 ASCII bytes
    }

    /// ``parse(_:context:)`` where only the legacy codes matter: a code's validity does not
    /// depend on the date or the division list (positions 3–8 need only be digits).
    public static func parse(_ input: String, acceptedLegacyCodes: Set<String> = []) throws(USCCError) -> UnifiedSocialCreditCode {
        try parse(input, context: IdentifierContext(divisions: DivisionCodes(names: [:]), today: CivilDate(year: 2000, month: 1, day: 1)!,
                                                    acceptedLegacyCodes: acceptedLegacyCodes))
    }

    /// ``parse(_:context:)`` for 18 bytes of the alphabet.
    private static func parse(ascii bytes: UnsafeBufferPointer<UInt8>, normalized: String,
                              context: IdentifierContext) throws(USCCError) -> UnifiedSocialCreditCode {
        let second = Character(Unicode.Scalar(bytes[1]))
        guard let authority = RegistrationAuthority.byByte[Int(bytes[0])] else { throw .unknownAuthority(Character(Unicode.Scalar(bytes[0]))) }
        guard RegistrationAuthority.registered[Int(bytes[0]) << 7 | Int(bytes[1])] else {
            throw .unknownOrganizationType(authority: authority, type: second)
        }
        let division = String(decoding: UnsafeBufferPointer(rebasing: bytes[2..<8]), as: UTF8.self)
        guard bytes[2..<8].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { throw .divisionNotDigits(division) }

        var warning: String?
        let orgExpected = OrganizationCode.checkByte(for: UnsafeBufferPointer(rebasing: bytes[8..<16]))
        if orgExpected != bytes[16] {
            let failure = USCCError.organizationCodeCheck(expected: Character(Unicode.Scalar(orgExpected)), found: Character(Unicode.Scalar(bytes[16])))
            guard context.acceptedLegacyCodes.contains(normalized) else { throw failure }
            warning = "accepted as a legally issued legacy code although \(failure.reason)"
        }
        var sum = 0
        for (b, w) in zip(bytes[0..<17], weights) { sum += Int(byteValues[Int(b)]) * w }
        let expected = alphabetBytes[(31 - sum % 31) % 31]
        if expected != bytes[17] {
            let failure = USCCError.checkCharacter(expected: Character(Unicode.Scalar(expected)), found: Character(Unicode.Scalar(bytes[17])))
            guard context.acceptedLegacyCodes.contains(normalized) else { throw failure }
            warning = warning ?? "accepted as a legally issued legacy code although \(failure.reason)"
        }
        return UnifiedSocialCreditCode(value: normalized, registrationAuthority: authority,
                                       organizationType: second, divisionCode: division,
                                       organizationCode: String(decoding: UnsafeBufferPointer(rebasing: bytes[8..<17]), as: UTF8.self),
                                       warning: warning)
    }

    /// ``alphabet`` as ASCII bytes.
    static let alphabetBytes: [UInt8] = alphabet.map { $0.asciiValue! }

    /// The alphabet's values by ASCII byte, −1 for bytes outside it.
    static let byteValues: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        for (i, c) in alphabet.enumerated() { table[Int(c.asciiValue!)] = Int8(i) }
        return table
    }()

    /// The organization type's name in the standard's table.
    public var organizationTypeName: String { registrationAuthority.organizationTypes[organizationType] ?? "" }
}

/// The GB 11714 organization code check (positions 9–17 of a USCC).
public enum OrganizationCode {
    static let weights = [3, 7, 9, 10, 5, 8, 4, 2]

    /// ``checkCharacter(for:)`` on ASCII bytes (digits and capitals), as an ASCII byte.
    static func checkByte(for body: UnsafeBufferPointer<UInt8>) -> UInt8 {
        var sum = 0
        for (b, w) in zip(body, weights) { sum += (b <= 0x39 ? Int(b) - 48 : Int(b) - 55) * w }
        switch 11 - sum % 11 {
        case 10: return UInt8(ascii: "X")
        case 11: return UInt8(ascii: "0")
        case let n: return UInt8(48 + n)
        }
    }

    /// The check character for 8 body characters: letters count A=10 … Z=35 (the full Latin
    /// alphabet, not the USCC table); 11 − S mod 11, where 10 is `X` and 11 is `0`.
    public static func checkCharacter(for body: ArraySlice<Character>) -> Character {
        var sum = 0
        for (c, w) in zip(body, weights) {
            let v: Int = if let d = c.wholeNumberValue, c.isASCII { d } else { Int(c.asciiValue! - 55) }
            sum += v * w
        }
        switch 11 - sum % 11 {
        case 10: return "X"
        case 11: return "0"
        case let n: return Character(String(n))
        }
    }
}

/// GB 32100-2015 table 1: the registration-management authority (position 1) and the
/// organization types (position 2) each may issue.
public enum RegistrationAuthority: Character, Sendable, CaseIterable {
    case establishment = "1", foreignAffairs = "2", justice = "3", culture = "4", civilAffairs = "5"
    case tourism = "6", religion = "7", tradeUnion = "8", marketRegulation = "9", military = "A"
    case agriculture = "N", other = "Y"

    /// The authority's name in the standard.
    public var name: String {
        switch self {
        case .establishment: "机构编制"
        case .foreignAffairs: "外交"
        case .justice: "司法行政"
        case .culture: "文化"
        case .civilAffairs: "民政"
        case .tourism: "旅游"
        case .religion: "宗教"
        case .tradeUnion: "工会"
        case .marketRegulation: "工商（市场监管）"
        case .military: "中央军委改革和编制办公室"
        case .agriculture: "农业"
        case .other: "其他"
        }
    }

    /// The organization types this authority registers, by position-2 character.
    public var organizationTypes: [Character: String] { Self.typeTable[self] ?? [:] }

    /// Whether this authority registers organization type `type`.
    public func registers(_ type: Character) -> Bool {
        type.asciiValue.map { Self.registered[Int(rawValue.asciiValue!) << 7 | Int($0)] } ?? false
    }

    private static let typeTable = Dictionary(uniqueKeysWithValues: allCases.map { ($0, $0.types) })

    /// The authority for each ASCII byte that names one.
    static let byByte: [RegistrationAuthority?] = {
        var table = [RegistrationAuthority?](repeating: nil, count: 128)
        for authority in allCases { table[Int(authority.rawValue.asciiValue!)] = authority }
        return table
    }()

    /// Which authority registers which organization type, for every pair of ASCII bytes
    /// (authority, type), indexed by `authority << 7 | type`: every code a node accepts is
    /// checked against it on its bytes.
    static let registered: [Bool] = {
        var table = [Bool](repeating: false, count: 128 * 128)
        for authority in allCases {
            for type in authority.types.keys {
                table[Int(authority.rawValue.asciiValue!) << 7 | Int(type.asciiValue!)] = true
            }
        }
        return table
    }()

    private var types: [Character: String] {
        switch self {
        case .establishment: ["1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"]
        case .foreignAffairs: ["1": "外国常驻新闻机构", "9": "其他"]
        case .justice: ["1": "律师执业机构", "2": "公证处", "3": "基层法律服务所", "4": "司法鉴定机构", "5": "仲裁委员会", "9": "其他"]
        case .culture: ["1": "外国在华文化中心", "9": "其他"]
        case .civilAffairs: ["1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"]
        case .tourism: ["1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地（大陆）代表机构", "9": "其他"]
        case .religion: ["1": "宗教活动场所", "2": "宗教院校", "9": "其他"]
        case .tradeUnion: ["1": "基层工会", "9": "其他"]
        case .marketRegulation: ["1": "企业", "2": "个体工商户", "3": "农民专业合作社"]
        case .military: ["1": "军队事业单位", "9": "其他"]
        case .agriculture: ["1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"]
        case .other: ["1": "其他"]
        }
    }
}

/// Why a value is not a valid unified social credit code.
public enum USCCError: Error, Equatable, Sendable {
    case empty
    case length(Int)
    case invalidCharacter(position: Int, character: Character)
    case unknownAuthority(Character)
    case unknownOrganizationType(authority: RegistrationAuthority, type: Character)
    case divisionNotDigits(String)
    case organizationCodeCheck(expected: Character, found: Character)
    case checkCharacter(expected: Character, found: Character)
}

extension USCCError: IdentifierFailure {
    public var code: String {
        switch self {
        case .empty: "empty"
        case .length: "length"
        case .invalidCharacter: "format"
        case .unknownAuthority: "registration-authority"
        case .unknownOrganizationType: "organization-type"
        case .divisionNotDigits: "division-code"
        case .organizationCodeCheck: "organization-code-check"
        case .checkCharacter: "check-character"
        }
    }

    public var reason: String {
        switch self {
        case .empty: "the credit code is empty"
        case let .length(n): "a unified social credit code has 18 characters, this one has \(n)"
        case let .invalidCharacter(position, character):
            "character \(position) is '\(character)'; only digits and capital letters other than I, O, Z, S and V are used"
        case let .unknownAuthority(c): "the first character '\(c)' is not a registration authority of GB 32100"
        case let .unknownOrganizationType(authority, type):
            "the second character '\(type)' is not an organization type that authority \(authority.rawValue) (\(authority.name)) registers"
        case let .divisionNotDigits(text): "characters 3–8 (\(text)) must be a six-digit division code"
        case let .organizationCodeCheck(expected, found):
            "the organization code check (character 17) is '\(found)' but characters 9–16 give '\(expected)'"
        case let .checkCharacter(expected, found):
            "the check character is '\(found)' but the first 17 characters give '\(expected)'; a character was probably mistyped"
        }
    }

    public var stage: Int {
        switch self {
        case .empty, .length, .invalidCharacter: 0
        case .unknownAuthority, .unknownOrganizationType, .divisionNotDigits: 1
        case .organizationCodeCheck, .checkCharacter: 2
        }
    }
}
