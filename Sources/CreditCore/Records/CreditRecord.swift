/// A record as a provider submits it: which catalog item, the provider's own id for it, the
/// subject it is about, and the item's fields.
///
/// Identifiers inside a validated record are in canonical form, so the same person or
/// organization always yields the same ``Subject/key``.
public struct CreditRecord: Sendable, Hashable, Codable {
    /// The catalog item's code.
    public var item: String
    /// The provider's own identifier for the record; with the provider's USCC and the item it
    /// forms the record's global key.
    public var recordId: String
    public var subject: Subject
    public var fields: [String: JSONValue]

    public init(item: String, recordId: String, subject: Subject, fields: [String: JSONValue]) {
        self.item = item
        self.recordId = recordId
        self.subject = subject
        self.fields = fields
    }
}

/// The credit subject a record is about.
public struct Subject: Sendable, Hashable, Codable {
    public var kind: SubjectKind
    public var name: String
    /// For legal persons and individual businesses.
    public var uscc: String?
    /// For natural persons who have one.
    public var residentId: String?
    /// For natural persons without a resident identity number.
    public var document: IdentityDocument?

    public init(kind: SubjectKind, name: String, uscc: String? = nil, residentId: String? = nil,
                document: IdentityDocument? = nil) {
        self.kind = kind
        self.name = name
        self.uscc = uscc
        self.residentId = residentId
        self.document = document
    }

    /// The Article 19 matching key: `uscc:…`, `resident-id:…` or `document:TYPE:…`.
    public var key: String {
        if let uscc { return "uscc:\(uscc)" }
        if let residentId { return "resident-id:\(residentId)" }
        if let document { return "document:\(document.type.rawValue):\(document.number)" }
        return "unidentified:\(name)"
    }
}

/// A document other than the resident identity card.
public struct IdentityDocument: Sendable, Hashable, Codable {
    public var type: DocumentType
    public var number: String

    public init(type: DocumentType, number: String) {
        self.type = type
        self.number = number
    }
}

/// A person named with a legal person's serious untrustworthiness (Article 33); their own
/// records show it too, so each is indexed by their identifier.
public struct ResponsiblePerson: Sendable, Hashable, Codable {
    public var role: ResponsibleRole
    public var name: String
    public var residentId: String?
    public var document: IdentityDocument?

    /// The person's Article 19 matching key.
    public var key: String {
        Subject(kind: .naturalPerson, name: name, residentId: residentId, document: document).key
    }
}

extension CreditRecord {
    /// The record in JSON that validation already accepted — a change's payload, as every node
    /// reads what the fan-out brings — built from the parsed value without `Codable`, which cost
    /// applying nodes a quarter of their time. `nil` when it is not a record.
    public init?(accepted json: JSONValue) {
        guard case let .object(o) = json, let item = o["item"]?.stringValue, let recordId = o["recordId"]?.stringValue,
              let subject = o["subject"]?.objectValue.flatMap(Subject.init(accepted:)), case let .object(fields)? = o["fields"] else { return nil }
        self.init(item: item, recordId: recordId, subject: subject, fields: fields)
    }

    /// The Article 33 persons of an accepted record's `responsiblePersons` field.
    public var acceptedPersons: [ResponsiblePerson] {
        guard case let .array(list)? = fields["responsiblePersons"] else { return [] }
        return list.compactMap { value in
            guard case let .object(p) = value, let role = p["role"]?.stringValue.flatMap(ResponsibleRole.init(rawValue:)),
                  let name = p["name"]?.stringValue else { return nil }
            return ResponsiblePerson(role: role, name: name, residentId: p["residentId"]?.stringValue,
                                     document: p["document"]?.objectValue.flatMap(IdentityDocument.init(accepted:)))
        }
    }
}

extension Subject {
    /// A subject of an accepted record's JSON.
    init?(accepted o: [String: JSONValue]) {
        guard let kind = o["kind"]?.stringValue.flatMap(SubjectKind.init(rawValue:)), let name = o["name"]?.stringValue else { return nil }
        self.init(kind: kind, name: name, uscc: o["uscc"]?.stringValue, residentId: o["residentId"]?.stringValue,
                  document: o["document"]?.objectValue.flatMap(IdentityDocument.init(accepted:)))
    }
}

extension IdentityDocument {
    init?(accepted o: [String: JSONValue]) {
        guard let type = o["type"]?.stringValue.flatMap(DocumentType.init(rawValue:)), let number = o["number"]?.stringValue else { return nil }
        self.init(type: type, number: number)
    }
}
