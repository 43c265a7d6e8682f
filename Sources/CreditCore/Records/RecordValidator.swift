/// Validates records against the catalog: strictly (an unknown field is an error), completely
/// (every problem is reported, not just the first) and in words a clerk understands.
///
/// A record that passes comes back normalized (canonical identifiers, trimmed text), classified
/// (Articles 15 and 27) and with its display window.
///
/// A class: every validation pass holds it, on every core at once, and one shared reference
/// costs one count where a struct's copy would count each of its members.
public final class RecordValidator: Sendable {
    public let catalog: Catalog
    public let identifiers: IdentifierContext
    public let displayRules: DisplayRules
    /// `catalog.version`, composed once: every accepted record carries it.
    let catalogVersion: String

    public init(catalog: Catalog, identifiers: IdentifierContext, displayRules: DisplayRules) {
        self.catalog = catalog
        self.identifiers = identifiers
        self.displayRules = displayRules
        catalogVersion = catalog.version
    }

    // The keys each object may have. A switch compares a handful of short strings faster than a
    // set hashes them, and every record goes through these.
    static func isTopLevelKey(_ key: String) -> Bool {
        switch key { case "item", "recordId", "subject", "fields": true; default: false }
    }
    static func isSubjectKey(_ key: String) -> Bool {
        switch key { case "kind", "name", "uscc", "residentId", "document": true; default: false }
    }
    /// Whether UTF-8 text holds a control character (Unicode's Cc: C0, DEL and C1), line feed
    /// and tab excepted when `lineBreaks`. C1 (U+0080–U+009F) is `C2 80`…`C2 9F` in UTF-8.
    static func containsControl(_ bytes: UnsafeBufferPointer<UInt8>, lineBreaks: Bool) -> Bool {
        var previous: UInt8 = 0
        for byte in bytes {
            if byte < 0x20, !(lineBreaks && (byte == 0x0A || byte == 0x09)) { return true }
            if byte == 0x7F || (previous == 0xC2 && (0x80...0x9F).contains(byte)) { return true }
            previous = byte
        }
        return false
    }
    static func isPersonKey(_ key: String) -> Bool {
        switch key { case "role", "name", "residentId", "document": true; default: false }
    }

    /// Validates a record already decoded into a ``CreditRecord``.
    public func validate(_ record: CreditRecord) -> RecordValidation {
        var subject: [String: JSONValue] = ["kind": .string(record.subject.kind.rawValue), "name": .string(record.subject.name)]
        if let uscc = record.subject.uscc { subject["uscc"] = .string(uscc) }
        if let id = record.subject.residentId { subject["residentId"] = .string(id) }
        if let doc = record.subject.document {
            subject["document"] = .object(["type": .string(doc.type.rawValue), "number": .string(doc.number)])
        }
        return validate(.object(["item": .string(record.item), "recordId": .string(record.recordId),
                                 "subject": .object(subject), "fields": .object(record.fields)]))
    }

    /// Validates one record given as JSON.
    public func validate(_ json: JSONValue) -> RecordValidation {
        var v = Run(validator: self)
        return v.run(json)
    }

    /// One validation pass, collecting issues as it goes.
    struct Run {
        let validator: RecordValidator
        var issues: [ValidationIssue] = []
        var warnings: [ValidationIssue] = []

        mutating func fail(_ field: String, _ code: String, _ message: String) {
            issues.append(ValidationIssue(field: field, code: code, message: message))
        }

        mutating func warn(_ field: String, _ code: String, _ message: String) {
            warnings.append(ValidationIssue(field: field, code: code, message: message))
        }

        mutating func run(_ json: JSONValue) -> RecordValidation {
            guard let top = json.objectValue else {
                fail("record", "not-an-object", "a record must be a JSON object, not \(json.typeName)")
                return RecordValidation(recordId: nil, item: nil, issues: issues, warnings: warnings, accepted: nil)
            }
            if top.keys.contains(where: { !RecordValidator.isTopLevelKey($0) }) {
                for key in top.keys.sorted() where !RecordValidator.isTopLevelKey(key) {
                    fail(key, "unknown-field", "'\(key)' is not part of a record; a record has item, recordId, subject and fields")
                }
            }
            let recordId = text(top["recordId"], field: "recordId", label: "record id", required: true, maxLength: 128, lineBreaks: false)
            let itemCode = top["item"]?.stringValue
            var item: CatalogItem?
            switch top["item"] {
            case nil, .null?: fail("item", "required", "the catalog item is required")
            case let .string(code)?:
                item = validator.catalog.item(code)
                if item == nil { fail("item", "unknown-item", "'\(code)' is not an item of catalog \(validator.catalog.version)") }
            case let other?: fail("item", "type", "the catalog item must be text, not \(other.typeName)")
            }

            let subject = self.subject(top["subject"], item: item)
            var fields: [String: JSONValue] = [:]
            var byPosition: [JSONValue?] = []
            var persons: [ResponsiblePerson] = []
            var decisionDate: CivilDate?
            switch top["fields"] {
            case nil, .null?: if item != nil { fail("fields", "required", "the record's fields are required") }
            case let .object(values)?:
                if let item, let subject {
                    (fields, byPosition, persons) = self.fields(values, item: item, subjectKind: subject.kind)
                    for (earlier, later) in item.dateOrder {
                        guard case let .string(a)? = byPosition[earlier], case let .string(b)? = byPosition[later],
                              let first = CivilDate(iso: a), let second = CivilDate(iso: b), first > second else { continue }
                        let (e, l) = (item.fields[earlier], item.fields[later])
                        fail("fields.\(e.name)", "date-order", "\(e.displayName) \(first) is after \(l.displayName) \(second); it cannot be")
                    }
                    if case let .string(d)? = fields[item.decisionDateField] { decisionDate = CivilDate(iso: d) }
                }
            case let other?: fail("fields", "type", "fields must be an object of field names and values, not \(other.typeName)")
            }

            guard issues.isEmpty, let item, let subject, let recordId, let decisionDate else {
                return RecordValidation(recordId: recordId ?? top["recordId"]?.stringValue, item: itemCode,
                                        issues: issues, warnings: warnings, accepted: nil)
            }
            let record = CreditRecord(item: item.code, recordId: recordId, subject: subject, fields: fields)
            let canonical = record.canonicalJSON { out in
                out.append(UInt8(ascii: "{"))
                var first = true
                item.canonicalKeyBytes.withUnsafeBufferPointer { keyBytes in
                    for key in item.canonicalKeys {
                        guard let value = byPosition[key.position] else { continue }
                        if !first { out.append(UInt8(ascii: ",")) }
                        first = false
                        out.append(contentsOf: UnsafeBufferPointer(rebasing: keyBytes[key.bytes]))
                        value.write(into: &out)
                    }
                }
                out.append(UInt8(ascii: "}"))
            }
            let classification = Classification.classify(record, item: item, decisionDate: decisionDate)
            let display = validator.displayRules.assess(classification, item: item, decisionDate: decisionDate)
            if let note = display.warning { warn("fields.severity", "severity-assumed", note) }
            let accepted = AcceptedRecord(record: record, item: item, decisionDate: decisionDate,
                                          responsiblePersons: persons, classification: classification,
                                          display: display, catalogVersion: validator.catalogVersion, canonicalJSON: canonical)
            return RecordValidation(recordId: recordId, item: item.code, issues: [], warnings: warnings, accepted: accepted)
        }

        // MARK: - Parts

        /// A trimmed text of 1…`maxLength` characters with no control character; `lineBreaks`
        /// lets line feed and tab through (a field's text may have lines; a record id, which is
        /// part of the record's key, may not).
        mutating func text(_ value: JSONValue?, field: @autoclosure () -> String, label: @autoclosure () -> String, required: Bool, maxLength: Int,
                           lineBreaks: Bool = true) -> String? {
            switch value {
            case nil, .null?:
                if required { fail(field(), "required", "the \(label()) is required") }
                return nil
            case let .string(s)?:
                let trimmed = s.trimmingWhitespace()
                if trimmed.isEmpty {
                    if required { fail(field(), "required", "the \(label()) is required but empty") }
                    return nil
                }
                // Counting characters is slow; a text with no more UTF-8 bytes than the limit is short enough.
                if trimmed.utf8.count > maxLength, trimmed.count > maxLength {
                    fail(field(), "too-long", "the \(label()) has \(trimmed.count) characters; at most \(maxLength) are allowed")
                    return nil
                }
                if trimmed.withUTF8Bytes({ RecordValidator.containsControl($0, lineBreaks: lineBreaks) }) {
                    fail(field(), "control-character", "the \(label()) contains a control character")
                    return nil
                }
                return trimmed
            case let other?:
                fail(field(), "type", "the \(label()) must be text, not \(other.typeName)")
                return nil
            }
        }

        mutating func subject(_ value: JSONValue?, item: CatalogItem?) -> Subject? {
            guard let value, value != .null else {
                fail("subject", "required", "the subject (who the record is about) is required")
                return nil
            }
            guard let object = value.objectValue else {
                fail("subject", "type", "the subject must be an object, not \(value.typeName)")
                return nil
            }
            if object.keys.contains(where: { !RecordValidator.isSubjectKey($0) }) {
                for key in object.keys.sorted() where !RecordValidator.isSubjectKey(key) {
                    fail("subject.\(key)", "unknown-field", "'\(key)' is not part of a subject; use kind, name, uscc, residentId or document")
                }
            }
            let name = text(object["name"], field: "subject.name", label: "subject's name", required: true, maxLength: 200)
            guard let kindText = object["kind"]?.stringValue else {
                fail("subject.kind", "required", "the subject kind is required: one of \(SubjectKind.allCases.map(\.rawValue).joined(separator: ", "))")
                return nil
            }
            guard let kind = SubjectKind(rawValue: kindText) else {
                fail("subject.kind", "invalid", "'\(kindText)' is not a subject kind; use one of \(SubjectKind.allCases.map(\.rawValue).joined(separator: ", "))")
                return nil
            }
            if let item, !item.subjectKinds.contains(kind) {
                fail("subject.kind", "not-allowed", "\(item.name) records are not about \(kind.rawValue) subjects; allowed: \(item.subjectKinds.map(\.rawValue).joined(separator: ", "))")
            }
            var subject = Subject(kind: kind, name: name ?? "")
            switch kind {
            case .legalPerson, .individualBusiness:
                for key in ["residentId", "document"] where object[key] != nil && object[key] != .null {
                    fail("subject.\(key)", "not-allowed", "a \(kind.rawValue) subject is identified by its unified social credit code only (Article 19)")
                }
                subject.uscc = uscc(object["uscc"], field: "subject.uscc", label: "subject's unified social credit code", required: true)
            case .naturalPerson:
                if object["uscc"] != nil && object["uscc"] != .null {
                    fail("subject.uscc", "not-allowed", "a natural person is identified by resident identity number or another document, not a credit code")
                }
                let hasID = object["residentId"] != nil && object["residentId"] != .null
                let hasDocument = object["document"] != nil && object["document"] != .null
                if hasID && hasDocument {
                    fail("subject.document", "not-allowed", "give the resident identity number or another document, not both; Article 19 matches by the identity number when there is one")
                } else if hasID {
                    subject.residentId = residentID(object["residentId"], field: "subject.residentId", label: "subject's resident identity number", required: true)
                } else if hasDocument {
                    subject.document = document(object["document"], field: "subject.document")
                } else {
                    fail("subject.residentId", "required", "a natural person needs a resident identity number, or another document (document.type and document.number) when they have none")
                }
            }
            guard name != nil else { return nil }
            return subject
        }

        mutating func uscc(_ value: JSONValue?, field: @autoclosure () -> String, label: @autoclosure () -> String, required: Bool) -> String? {
            guard let raw = text(value, field: field(), label: label(), required: required, maxLength: 64) else { return nil }
            do {
                let code = try UnifiedSocialCreditCode.parse(raw, context: validator.identifiers)
                if let warning = code.warning { warn(field(), "legacy-code", warning) }
                return code.value
            } catch {
                fail(field(), error.code, "\(raw) is not a valid unified social credit code: \(error.reason)")
                return nil
            }
        }

        mutating func residentID(_ value: JSONValue?, field: @autoclosure () -> String, label: @autoclosure () -> String, required: Bool) -> String? {
            guard let raw = text(value, field: field(), label: label(), required: required, maxLength: 64) else { return nil }
            do {
                return try ResidentIdentityNumber.parse(raw, context: validator.identifiers).value
            } catch {
                fail(field(), error.code, "\(raw) is not a valid resident identity number: \(error.reason)")
                return nil
            }
        }

        mutating func document(_ value: JSONValue?, field: String) -> IdentityDocument? {
            guard let object = value?.objectValue else {
                fail(field, "type", "the document must be an object with type and number")
                return nil
            }
            for key in object.keys.sorted() where key != "type" && key != "number" {
                fail("\(field).\(key)", "unknown-field", "'\(key)' is not part of a document; use type and number")
            }
            let typeText = object["type"]?.stringValue
            let type = typeText.flatMap(DocumentType.init(rawValue:))
            if type == nil {
                fail("\(field).type", typeText == nil ? "required" : "invalid",
                     "the document type must be one of \(DocumentType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let number = text(object["number"], field: "\(field).number", label: "document number", required: true, maxLength: 64) else {
                return nil
            }
            switch DocumentType.normalize(number: number) {
            case let .success(normalized): return type.map { IdentityDocument(type: $0, number: normalized) }
            case let .failure(error):
                fail("\(field).number", "format", error.reason)
                return nil
            }
        }

        /// The normalized fields, by name and by position in the item, and the Article 33 persons.
        mutating func fields(_ values: [String: JSONValue], item: CatalogItem, subjectKind: SubjectKind)
            -> ([String: JSONValue], [JSONValue?], [ResponsiblePerson]) {
            // The normalized fields start as the given ones and change only where normalizing
            // changed a value: most values come through as given, and sharing the dictionary
            // saves hashing every key again. (With an unknown key the record is refused, and
            // `out` is not used.)
            var out = values
            var persons: [ResponsiblePerson] = []
            // Each given value is placed by its field's position, so the pass over the catalog's
            // fields below hashes nothing; most of an item's fields are optional and absent.
            var given = [JSONValue?](repeating: nil, count: item.fields.count)
            var unknown = false
            for (key, value) in values {
                if let position = item.fieldPosition(key) { given[position] = value } else { unknown = true }
            }
            if unknown {
                for key in values.keys.sorted() where !item.hasField(key) {
                    fail("fields.\(key)", "unknown-field", "\(item.name) (\(item.code)) has no field '\(key)'")
                }
            }
            // The loop reads each field's rule (plain values); the shared specification is
            // touched only for what is rare: see `FieldRule`.
            item.fields.withUnsafeBufferPointer { specs in
                item.fieldRules.withUnsafeBufferPointer { rules in
                    for position in specs.indices {
                        let rule = rules[position]
                        let value = given[position]
                        let absent: Bool = switch value {
                        case nil, .null?: true
                        case let .string(s)?: s.withUTF8Bytes { $0.isEmpty || ($0.startsWithWhiteSpace && s.unicodeScalars.allSatisfy(\.isWhiteSpace)) }
                        case let .array(a)?: a.isEmpty
                        default: false
                        }
                        if absent {
                            if value != nil { out.removeValue(forKey: specs[position].name) }
                            given[position] = nil
                            if rule.isRequired(for: subjectKind) {
                                let scope = rule.required ? "" : " for \(subjectKind.rawValue) subjects"
                                fail("fields.\(specs[position].name)", "required", "\(specs[position].displayName) is required\(scope)")
                            }
                            continue
                        }
                        let normalized = field(value!, rule: rule, spec: specs[position], path: "fields.\(specs[position].name)", persons: &persons)
                        given[position] = normalized
                        if let normalized, normalized != value! { out[specs[position].name] = normalized }
                    }
                }
            }
            return (out, given, persons)
        }

        /// One present value, checked by its field's `rule`; `spec` is evaluated only for messages
        /// and the rare types that need more than the rule.
        mutating func field(_ value: JSONValue, rule: FieldRule, spec: @autoclosure () -> FieldSpec, path: @autoclosure () -> String,
                            persons: inout [ResponsiblePerson]) -> JSONValue? {
            // Only error messages use these; they are built when one is.
            var name: String { spec().displayName }
            switch rule.type {
            case .string, .text:
                return text(value, field: path(), label: name, required: true, maxLength: rule.maxLength).map(JSONValue.string)
            case .date:
                guard case let .string(s) = value, let date = CivilDate(iso: s.trimmingWhitespace()) else {
                    fail(path(), "date", "\(name) must be a date written YYYY-MM-DD, got \(Self.show(value))")
                    return nil
                }
                if rule.isDecisionDate, date > validator.identifiers.today {
                    fail(path(), "future-date", "\(name) \(date) is in the future; a decision date is the day the decision was made")
                    return nil
                }
                return .string(date.description)
            case .decimal, .integer:
                let raw: String? = switch value {
                case let .number(n): n
                case let .string(s): s.trimmingWhitespace()
                default: nil
                }
                guard let raw, let number = DecimalText(raw, integer: rule.type == .integer) else {
                    let what = rule.type == .integer ? "a whole number" : "a number"
                    fail(path(), "number", "\(name) must be \(what), got \(Self.show(value))")
                    return nil
                }
                if rule.nonNegative, number.isNegative {
                    fail(path(), "negative", "\(name) must not be negative, got \(raw)")
                    return nil
                }
                if let scale = rule.scale, number.fractionDigits > scale {
                    fail(path(), "scale", "\(name) allows at most \(scale) digits after the decimal point, got \(raw)")
                    return nil
                }
                if number.integerDigits > 18 - (rule.scale ?? 0) {
                    fail(path(), "precision", "\(name) \(raw) is too large")
                    return nil
                }
                return .number(number.canonical)
            case .boolean:
                switch value {
                case .bool: return value
                case .string("true"): return .bool(true)
                case .string("false"): return .bool(false)
                default:
                    fail(path(), "boolean", "\(name) must be true or false, got \(Self.show(value))")
                    return nil
                }
            case .enum:
                let spec = spec()
                let allowed = spec.values ?? []
                let given: String? = switch value {
                case let .string(s): s.trimmingWhitespace()
                case let .number(n): n
                default: nil
                }
                if let given, allowed.contains(given) { return .string(given) }
                // A code the national template uses for a value (XK_ZT 1/2): stored as the value.
                if let given, let coded = spec.codes?[given] { return .string(coded) }
                let codes = spec.codes.map { "; or its code (\($0.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: ", ")))" } ?? ""
                fail(path(), "not-in-list", "\(name) must be one of \(allowed.joined(separator: ", "))\(codes); got \(Self.show(value))")
                return nil
            case .uscc:
                return uscc(value, field: path(), label: name, required: true).map(JSONValue.string)
            case .residentID:
                return residentID(value, field: path(), label: name, required: true).map(JSONValue.string)
            case .persons:
                return self.persons(value, spec: spec(), path: path(), into: &persons)
            }
        }

        mutating func persons(_ value: JSONValue, spec: FieldSpec, path: String,
                              into persons: inout [ResponsiblePerson]) -> JSONValue? {
            guard case let .array(list) = value else {
                fail(path, "type", "\(spec.displayName) must be a list of persons, not \(value.typeName)")
                return nil
            }
            var out: [JSONValue] = []
            let before = issues.count
            for (index, entry) in list.enumerated() {
                let p = "\(path)[\(index)]"
                guard let object = entry.objectValue else {
                    fail(p, "type", "each responsible person must be an object with role, name and residentId or document")
                    continue
                }
                for key in object.keys.sorted() where !RecordValidator.isPersonKey(key) {
                    fail("\(p).\(key)", "unknown-field", "'\(key)' is not part of a responsible person; use role, name, residentId or document")
                }
                let roleText = object["role"]?.stringValue
                let role = roleText.flatMap(ResponsibleRole.init(rawValue:))
                if role == nil {
                    fail("\(p).role", roleText == nil ? "required" : "invalid",
                         "the role must be one of \(ResponsibleRole.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let name = text(object["name"], field: "\(p).name", label: "person's name", required: true, maxLength: 200)
                var person = ResponsiblePerson(role: role ?? .directlyResponsiblePerson, name: name ?? "")
                if object["residentId"] != nil && object["residentId"] != .null {
                    person.residentId = residentID(object["residentId"], field: "\(p).residentId", label: "person's resident identity number", required: true)
                } else if object["document"] != nil && object["document"] != .null {
                    person.document = document(object["document"], field: "\(p).document")
                } else {
                    fail("\(p).residentId", "required", "each responsible person needs a resident identity number or another document, so that their own records show this entry (Article 33)")
                }
                var encoded: [String: JSONValue] = ["role": .string(person.role.rawValue), "name": .string(person.name)]
                if let id = person.residentId { encoded["residentId"] = .string(id) }
                if let d = person.document { encoded["document"] = .object(["type": .string(d.type.rawValue), "number": .string(d.number)]) }
                out.append(.object(encoded))
                persons.append(person)
            }
            if let roles = spec.requiredOneOfRoles, !roles.isEmpty, !persons.contains(where: { roles.contains($0.role) }) {
                let names = roles.map { "\($0.rawValue) (\($0.name))" }.joined(separator: " or ")
                fail(path, "missing-role", "\(spec.displayName) must name the \(names) (Article 33)")
            }
            return issues.count == before ? .array(out) : nil
        }

        static func show(_ value: JSONValue) -> String {
            switch value {
            case let .string(s): "'\(s)'"
            case let .number(n): n
            case let .bool(b): "\(b)"
            default: value.typeName
            }
        }
    }
}

/// The outcome of validating one record.
public struct RecordValidation: Sendable {
    /// The record's id as given, when it had one.
    public var recordId: String?
    /// The catalog item as given.
    public var item: String?
    /// Every problem found; empty when the record is valid.
    public var issues: [ValidationIssue]
    /// Caveats on a record accepted anyway.
    public var warnings: [ValidationIssue]
    /// The normalized, classified record, when valid.
    public var accepted: AcceptedRecord?

    public var isValid: Bool { accepted != nil }
}

/// A record that passed validation, with everything derived from it.
public struct AcceptedRecord: Sendable {
    /// The record with canonical identifiers and trimmed values.
    public var record: CreditRecord
    public var item: CatalogItem
    public var decisionDate: CivilDate
    /// The Article 33 persons, indexed so that their own records show the entry.
    public var responsiblePersons: [ResponsiblePerson]
    public var classification: Classification
    public var display: DisplayAssessment
    /// The catalog version the record was validated against.
    public var catalogVersion: String
    /// ``CreditRecord/canonicalJSON`` of ``record``, written as it was validated (the catalog
    /// item knows its fields' order, so nothing is sorted).
    public var canonicalJSON: [UInt8]

    /// Every subject key the record is filed under: the subject's and each responsible person's.
    public var subjectKeys: [String] {
        var keys = [record.subject.key]
        for person in responsiblePersons where !keys.contains(person.key) { keys.append(person.key) }
        return keys
    }
}
