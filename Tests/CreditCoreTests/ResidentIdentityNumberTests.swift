import CreditCore
import CreditTesting
import Testing

struct IdentifierVector: Decodable, CustomTestStringConvertible, Sendable {
    var input: String
    var kind: IdentifierKind
    var valid: Bool
    var normalized: String?
    var code: String?
    var note: String
    var testDescription: String { "\(kind.rawValue) '\(input)' \(note)" }
}

struct IdentifierVectorFile: Decodable {
    var today: CivilDate
    var vectors: [IdentifierVector]
}

let identifierVectors: [IdentifierVector] = (try? Fixtures.vectors("identifiers.json", as: IdentifierVectorFile.self).vectors) ?? []

@Suite("Identifier vectors (Protocol/vectors/identifiers.json)")
struct IdentifierVectorTests {
    @Test func vectorFileLoadsAndMatchesFixtureDate() throws {
        let file = try Fixtures.vectors("identifiers.json", as: IdentifierVectorFile.self)
        #expect(file.vectors.count >= 40)
        #expect(file.today == Fixtures.today)
    }

    @Test(arguments: identifierVectors)
    func vector(_ v: IdentifierVector) {
        // Given a vector, when it is checked as its kind,
        let result = IdentifierCheck.check(v.input, as: v.kind, context: Fixtures.identifiers)
        // then validity, the canonical form and the failure code match.
        #expect(result.valid == v.valid, "\(result.reason ?? "")")
        #expect(result.normalized == v.normalized)
        if let code = v.code { #expect(result.code == code, "\(result.reason ?? "")") }
        if !v.valid { #expect(result.reason?.isEmpty == false) }
    }

    @Test(arguments: identifierVectors.filter { $0.valid && !$0.input.isEmpty })
    func detectionFindsTheKind(_ v: IdentifierVector) {
        let result = IdentifierCheck.check(v.input, context: Fixtures.identifiers)
        #expect(result.kind == v.kind)
        #expect(result.valid)
    }
}

@Suite struct ResidentIdentityNumberTests {
    let context = Fixtures.identifiers

    @Test func derivesSexBirthDateAndDivision() throws {
        let id = try ResidentIdentityNumber.parse("11010519491231002X", context: context)
        #expect(id.sex == .female)
        #expect(id.birthDate == CivilDate(year: 1949, month: 12, day: 31))
        #expect(id.divisionCode == "110105")
        let man = try ResidentIdentityNumber.parse("360426199101010071", context: context)
        #expect(man.sex == .male)
        #expect(man.age(on: CivilDate(year: 2026, month: 1, day: 1)!) == 35)
    }

    @Test func legacyFifteenDigitFormIsConverted() throws {
        let id = try ResidentIdentityNumber.parse("360426910101007", context: context)
        #expect(id.wasLegacyForm)
        #expect(id.value.count == 18)
        #expect(id.value.hasPrefix("36042619910101007"))
        // The converted number validates on its own.
        #expect(try ResidentIdentityNumber.parse(id.value, context: context).value == id.value)
    }

    @Test func errorsAreTyped() {
        #expect(throws: ResidentIDError.checkCharacter(expected: "3", found: "X")) {
            try ResidentIdentityNumber.parse("36042619910102009X", context: context)
        }
        #expect(throws: ResidentIDError.unknownDivision("990426")) {
            try ResidentIdentityNumber.parse("990426199112010074", context: context)
        }
        #expect(throws: ResidentIDError.length(17)) {
            try ResidentIdentityNumber.parse("36042619910101007", context: context)
        }
    }

    @Test func todayBoundsTheBirthDate() throws {
        let born = ResidentIdentityNumber.compose(division: "360426", birthDate: Fixtures.today, sequence: 1)
        #expect(throws: Never.self) { try ResidentIdentityNumber.parse(born, context: context) }
        let tomorrow = ResidentIdentityNumber.compose(division: "360426", birthDate: Fixtures.today.adding(days: 1), sequence: 1)
        #expect(throws: ResidentIDError.birthDateInFuture(Fixtures.today.adding(days: 1))) {
            try ResidentIdentityNumber.parse(tomorrow, context: context)
        }
    }

    /// Property: MOD 11-2 catches every single-character substitution and every adjacent
    /// transposition of a valid number (a change that leaves the number valid is impossible).
    @Test(arguments: identifierVectors.filter { $0.valid && $0.kind == .residentID && $0.input.count == 18 })
    func everySubstitutionAndTranspositionIsRejected(_ v: IdentifierVector) {
        let original = Array(v.normalized!)
        let alphabet = Array("0123456789X")
        for i in 0..<18 {
            for c in alphabet where c != original[i] {
                var mutated = original
                mutated[i] = c
                let result = IdentifierCheck.check(String(mutated), as: .residentID, context: context)
                #expect(!result.valid, "substitution at \(i + 1) accepted: \(String(mutated))")
            }
        }
        for i in 0..<17 where original[i] != original[i + 1] {
            var mutated = original
            mutated.swapAt(i, i + 1)
            #expect(!IdentifierCheck.check(String(mutated), as: .residentID, context: context).valid,
                    "transposition at \(i + 1) accepted: \(String(mutated))")
        }
    }
}
