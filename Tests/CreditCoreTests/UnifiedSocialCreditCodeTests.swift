import CreditCore
import CreditTesting
import Testing

@Suite struct UnifiedSocialCreditCodeTests {
    let context = Fixtures.identifiers

    @Test func decodesTheLayout() throws {
        let code = try UnifiedSocialCreditCode.parse("91110000600037341L", context: context)
        #expect(code.registrationAuthority == .marketRegulation)
        #expect(code.organizationType == "1")
        #expect(code.organizationTypeName == "企业")
        #expect(code.divisionCode == "110000")
        #expect(code.organizationCode == "600037341")
        #expect(code.warning == nil)
    }

    @Test func surroundingSpaceAndLowerCaseAreNormalizedAndErrorsNameTheCharacter() throws {
        for typed in ["\u{3000}91110000600037341l ", "\t91110000600037341L\u{A0}", "91110000600037341l"] {
            #expect(try UnifiedSocialCreditCode.parse(typed, context: context).value == "91110000600037341L")
        }
        #expect(throws: USCCError.invalidCharacter(position: 5, character: "Ｏ")) {
            try UnifiedSocialCreditCode.parse("9111Ｏ000600037341L", context: context)
        }
        #expect(throws: USCCError.invalidCharacter(position: 5, character: "I")) {
            try UnifiedSocialCreditCode.parse("9111I000600037341L", context: context)
        }
        #expect(throws: USCCError.length(17)) { try UnifiedSocialCreditCode.parse("9111000600037341L", context: context) }
        #expect(throws: USCCError.empty) { try UnifiedSocialCreditCode.parse("\u{3000} ", context: context) }
        // Only ASCII letters are upper-cased: the ligature ﬀ is one character, not FF, so 17
        // characters stay 17 (Unicode upper-casing had made a valid 18-character code of them).
        #expect(throws: USCCError.length(17)) { try UnifiedSocialCreditCode.parse("913601006ﬀ123452F", context: context) }
    }

    @Test func legacyPilotCodeIsAcceptedWithAWarningOnlyWhenListed() throws {
        let code = try UnifiedSocialCreditCode.parse("91350100M0001TGQXM", context: context)
        #expect(code.warning != nil)
        let strict = IdentifierContext(divisions: context.divisions, today: context.today)
        #expect(throws: USCCError.self) { try UnifiedSocialCreditCode.parse("91350100M0001TGQXM", context: strict) }
    }

    @Test func composedCodesValidate() throws {
        for i in 0..<200 {
            let code = UnifiedSocialCreditCode.compose(division: "360100", organizationBody: String(format: "MA%06d", i * 7919 % 1_000_000))
            #expect(try UnifiedSocialCreditCode.parse(code, context: context).value == code)
        }
    }

    /// Property: every single-character substitution within the alphabet, and every adjacent
    /// transposition, of a valid code is rejected.
    @Test(arguments: identifierVectors.filter { $0.valid && $0.kind == .uscc && $0.note.contains("warning") == false })
    func everySubstitutionAndTranspositionIsRejected(_ v: IdentifierVector) {
        let original = Array(v.normalized!)
        for i in 0..<18 {
            for c in UnifiedSocialCreditCode.alphabet where c != original[i] {
                var mutated = original
                mutated[i] = c
                #expect(!IdentifierCheck.check(String(mutated), as: .uscc, context: context).valid,
                        "substitution at \(i + 1) accepted: \(String(mutated))")
            }
        }
        for i in 0..<17 where original[i] != original[i + 1] {
            var mutated = original
            mutated.swapAt(i, i + 1)
            #expect(!IdentifierCheck.check(String(mutated), as: .uscc, context: context).valid,
                    "transposition at \(i + 1) accepted: \(String(mutated))")
        }
    }
}
