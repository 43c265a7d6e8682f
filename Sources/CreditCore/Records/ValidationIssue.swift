/// One problem with one field of one record, worded for the clerk who must fix it.
public struct ValidationIssue: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The path of the field at fault: `recordId`, `subject.uscc`, `fields.CF_WSH`,
    /// `fields.responsiblePersons[1].residentId`.
    public var field: String
    /// A stable machine-readable code: `required`, `unknown-field`, `check-character`, …
    public var code: String
    /// What is wrong and what would be right.
    public var message: String

    public init(field: String, code: String, message: String) {
        self.field = field
        self.code = code
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}
