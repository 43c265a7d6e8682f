/// Identity documents of natural persons who have no resident identity number (Article 19:
/// "other valid identification documents"). Their numbers follow no national check algorithm,
/// so they are checked for shape only, never put through MOD 11-2.
public enum DocumentType: String, Sendable, Codable, CaseIterable {
    case passport
    case hkMacauPermit = "hk-macau-permit"
    case taiwanPermit = "taiwan-permit"
    case foreignPermanentResidence = "foreign-permanent-residence"
    case militaryID = "military-id"
    case other

    /// The document's Chinese name, as clerks know it.
    public var name: String {
        switch self {
        case .passport: "护照"
        case .hkMacauPermit: "港澳居民来往内地通行证"
        case .taiwanPermit: "台湾居民来往大陆通行证"
        case .foreignPermanentResidence: "外国人永久居留身份证"
        case .militaryID: "军官证/士兵证"
        case .other: "其他有效证件"
        }
    }

    /// Checks a document number's shape: 4–32 letters, digits, `-` or `(`/`)`, after trimming.
    /// - Returns: the normalized number (upper-cased), or a reason it is unusable.
    public static func normalize(number: String) -> Result<String, DocumentNumberError> {
        let trimmed = number.trimmingWhitespace().asciiUppercased()
        guard (4...32).contains(trimmed.count) else { return .failure(.length(trimmed.count)) }
        guard trimmed.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-()".contains($0)) }) else {
            return .failure(.characters)
        }
        return .success(trimmed)
    }
}

/// Why another document's number is unusable.
public enum DocumentNumberError: Error, Equatable, Sendable {
    case length(Int)
    case characters

    public var reason: String {
        switch self {
        case let .length(n): "a document number has 4 to 32 characters, this one has \(n)"
        case .characters: "a document number may hold only Latin letters, digits, '-' and parentheses"
        }
    }
}
