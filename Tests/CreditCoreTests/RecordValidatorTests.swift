import CreditCore
import CreditData
import CreditTesting
import Foundation
import Testing

struct RecordVector: Decodable, Sendable, CustomTestStringConvertible {
    struct Expect: Decodable, Sendable {
        var valid: Bool
        var recordClass: RecordClass?
        var lenient: Bool?
        var displayWindow: [String]?
        /// The record's canonical JSON (records.md), for a valid record.
        var canonical: String?
        var errors: [[String]]?
    }

    var name: String
    var record: JSONValue
    var expect: Expect
    var testDescription: String { name }
}

struct RecordVectorFile: Decodable { var today: CivilDate; var vectors: [RecordVector] }

let recordVectors = (try? Fixtures.vectors("records.json", as: RecordVectorFile.self).vectors) ?? []

@Suite("Record vectors (Protocol/vectors/records.json)")
struct RecordVectorTests {
    @Test func vectorsLoad() throws {
        let file = try Fixtures.vectors("records.json", as: RecordVectorFile.self)
        #expect(file.vectors.count >= 20)
        #expect(file.today == Fixtures.today)
    }

    @Test(arguments: recordVectors)
    func vector(_ v: RecordVector) throws {
        let result = Fixtures.validator.validate(v.record)
        #expect(result.isValid == v.expect.valid, "\(result.issues)")
        if let accepted = result.accepted {
            #expect(accepted.classification.recordClass == v.expect.recordClass)
            #expect(accepted.classification.lenient == v.expect.lenient)
            let window = accepted.display.window.map { [$0.rule, $0.earliestEnd.description, $0.latestEnd.description] }
            #expect(window == v.expect.displayWindow)
            #expect(String(decoding: accepted.canonicalJSON, as: UTF8.self) == v.expect.canonical)
        }
        for pair in v.expect.errors ?? [] {
            #expect(result.issues.contains { $0.field == pair[0] && $0.code == pair[1] },
                    "expected \(pair[0]) \(pair[1]) among \(result.issues)")
        }
        if !v.expect.valid { #expect(result.issues.allSatisfy { !$0.message.isEmpty && !$0.field.isEmpty }) }
    }
}

@Suite struct RecordValidatorTests {
    @Test func acceptedRecordsAreNormalized() throws {
        var generator = SyntheticRecords(division: "360100")
        var record = generator.punishment(3, decidedOn: CivilDate(year: 2026, month: 6, day: 1)!)
        record.subject.uscc = " " + record.subject.uscc!.lowercased() + " "
        record.fields["CF_NR_FK"] = .string("0.500")
        record.fields["CF_WSH"] = .string("  洪市监罚〔2026〕3号 ")
        let accepted = try #require(Fixtures.validator.validate(record).accepted)
        #expect(accepted.record.subject.uscc == generator.companyCode(3))
        #expect(accepted.record.fields["CF_NR_FK"] == .number("0.5"))
        #expect(accepted.record.fields["CF_WSH"] == .string("洪市监罚〔2026〕3号"))
        #expect(accepted.catalogVersion == Fixtures.reference.catalog.version)
    }

    @Test func responsiblePersonsAreIndexedUnderTheirOwnKeys() throws {
        let vector = try #require(recordVectors.first { $0.name.hasPrefix("serious list entry names") })
        let accepted = try #require(Fixtures.validator.validate(vector.record).accepted)
        #expect(accepted.subjectKeys == ["uscc:91110000600037341L", "resident-id:360102198001010056", "resident-id:11010519491231002X"])
    }

    @Test func syntheticRecordsOfEveryCityValidate() {
        for (code, _) in SyntheticRecords.cities {
            var generator = SyntheticRecords(division: code)
            for i in 0..<30 {
                let date = Fixtures.today.adding(days: -i * 13)
                for record in [generator.punishment(i, decidedOn: date), generator.permit(i, grantedOn: date)] {
                    let result = Fixtures.validator.validate(record)
                    #expect(result.isValid, "\(record.recordId): \(result.issues)")
                }
            }
        }
    }

    /// The national double-publicity template codes 当前状态 (XK_ZT) as 1/2: an export that says so
    /// is accepted, and the record keeps the value, so the same permit is one record however it came.
    @Test func aCodedValueIsAcceptedAndStoredAsItsValue() throws {
        var generator = SyntheticRecords(division: "360100")
        let permit = generator.permit(1, grantedOn: Fixtures.today)
        var canonical: [[UInt8]] = []
        for (given, stored) in [(JSONValue.string("1"), "有效"), (.number("2"), "无效"), (.string(" 有效 "), "有效")] {
            var record = permit
            record.fields["XK_ZT"] = given
            let accepted = try #require(Fixtures.validator.validate(record).accepted, "XK_ZT \(given)")
            #expect(accepted.record.fields["XK_ZT"] == .string(stored))
            canonical.append(accepted.canonicalJSON)
        }
        #expect(canonical[0] == canonical[2])
        var wrong = permit
        wrong.fields["XK_ZT"] = .string("3")
        let issue = try #require(Fixtures.validator.validate(wrong).issues.first)
        #expect(issue.field == "fields.XK_ZT" && issue.code == "not-in-list")
        #expect(issue.message.contains("1 = 有效"))
    }

    /// A text may hold line feeds and tabs (a reason over several lines), and no other control
    /// character: a carriage return is refused, naming the field (records.md, Field values).
    @Test func aTextKeepsLineFeedsAndTabsButNoOtherControlCharacter() throws {
        var generator = SyntheticRecords(division: "360100")
        let punishment = generator.punishment(1, decidedOn: Fixtures.today)
        var lines = punishment
        lines.fields["CF_SY"] = .string("当事人未亮照经营，\n经查属实。\t（复核）")
        let accepted = try #require(Fixtures.validator.validate(lines).accepted, "\(Fixtures.validator.validate(lines).issues)")
        #expect(accepted.record.fields["CF_SY"] == .string("当事人未亮照经营，\n经查属实。\t（复核）"))
        for control in ["\r", "\u{0}", "\u{1B}"] {
            var bad = punishment
            bad.fields["CF_SY"] = .string("当事人未亮照经营，\(control)经查属实。")
            let issue = try #require(Fixtures.validator.validate(bad).issues.first, "\(control.unicodeScalars.first!.value)")
            #expect(issue.field == "fields.CF_SY" && issue.code == "control-character")
        }
    }

    @Test func nonObjectInputIsRefusedClearly() {
        let result = Fixtures.validator.validate(.array([]))
        #expect(result.issues.first?.code == "not-an-object")
    }
}
