/// A subject key as a caller writes it (`uscc:…`, `resident-id:…`, `document:TYPE:NUMBER`,
/// identifiers.md), read into the one form records are filed under.
///
/// A subject asking for their records may type a lower-case check character or the 15-digit
/// form of their identity number; answering "no records" for such a key, signed by the hub,
/// would split one subject in two. `unidentified:NAME`, the key of an Article 33 person named
/// without an identifier, is taken as it is.
public enum SubjectKey {
    /// Why a text is not a subject key, in words a clerk can act on.
    public struct Invalid: Error, CustomStringConvertible {
        public var key: String
        public var reason: String
        public var description: String { "'\(key)' is not a subject key: \(reason)" }
    }

    /// The normalized key, or ``Invalid`` saying what is wrong.
    public static func normalize(_ text: String, context: IdentifierContext) throws(Invalid) -> String {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else {
            throw Invalid(key: text, reason: "it must be uscc:CODE, resident-id:NUMBER or document:TYPE:NUMBER")
        }
        let (kind, value) = (parts[0], parts[1])
        switch kind {
        case "uscc":
            do { return "uscc:\(try UnifiedSocialCreditCode.parse(value, context: context).value)" } catch {
                throw Invalid(key: text, reason: error.reason)
            }
        case "resident-id":
            do { return "resident-id:\(try ResidentIdentityNumber.parse(value, context: context).value)" } catch {
                throw Invalid(key: text, reason: error.reason)
            }
        case "document":
            let typeAndNumber = value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard typeAndNumber.count == 2, let type = DocumentType(rawValue: typeAndNumber[0]) else {
                throw Invalid(key: text, reason: "a document key is document:TYPE:NUMBER, TYPE one of "
                              + DocumentType.allCases.map(\.rawValue).joined(separator: ", "))
            }
            switch DocumentType.normalize(number: typeAndNumber[1]) {
            case let .success(number): return "document:\(type.rawValue):\(number)"
            case let .failure(error): throw Invalid(key: text, reason: error.reason)
            }
        case "unidentified":
            return text
        default:
            throw Invalid(key: text, reason: "'\(kind)' is not a kind of subject key (uscc, resident-id, document)")
        }
    }
}
