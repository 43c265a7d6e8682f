import CreditCore
import CreditTesting
import Foundation
import Testing

@Suite struct CatalogTests {
    let national: CatalogLayer = try! Catalog.decodeLayer(Data(contentsOf: ReferenceDataPaths.nationalCatalog), source: "national.json")

    func supplement(_ items: [CatalogItem], id: String = "360100") -> CatalogLayer {
        CatalogLayer(layer: .city, id: id, version: "1", title: "南昌市补充目录", division: id, items: items)
    }

    func item(_ code: String = "city-item", fields: [FieldSpec]) -> CatalogItem {
        CatalogItem(code: code, name: "测试", title: "Test", category: .basic, basis: "Article 11",
                    subjectKinds: [.naturalPerson], disclosure: .shared, decisionDateField: "date",
                    fields: [FieldSpec(name: "date", label: "日期", type: .date, required: true)] + fields)
    }

    /// A layer id names a file (`hub reference add` wrote to a path taken from it) and, with the
    /// version, the catalog version every change carries.
    @Test func layerIdsAndVersionsArePlainNames() throws {
        for id in ["../../etc/cron.d/x", "city/360100", "", "-x", "CITY", String(repeating: "a", count: 65), "a b"] {
            #expect(throws: CatalogError.self, "id '\(id)'") { try Catalog(layers: [national, supplement([], id: id)]) }
        }
        var bad = supplement([])
        for version in ["1+evil", "1@2", "1/2", String(repeating: "1", count: 33)] {
            bad.version = version
            #expect(throws: CatalogError.self, "version '\(version)'") { try Catalog(layers: [national, bad]) }
        }
        #expect(try Catalog(layers: [national, supplement([], id: "city-360100")]).version.hasSuffix("+city-360100@1"))
    }

    @Test func codesMustStandForValues() throws {
        let coded = { (codes: [String: String]) in
            self.item(fields: [FieldSpec(name: "state", label: "状态", type: .enum, values: ["有效", "无效"], codes: codes)])
        }
        #expect(throws: CatalogError.self) { try Catalog(layers: [national, supplement([coded(["1": "有", "2": "无效"])])]) }
        #expect(throws: CatalogError.self) { try Catalog(layers: [national, supplement([coded(["无效": "有效"])])]) }
        _ = try Catalog(layers: [national, supplement([coded(["1": "有效", "2": "无效"])])])
    }

    @Test func bundledCatalogCoversTheRegulation() throws {
        let catalog = Fixtures.reference.catalog
        let required = ["registration", "administrative-permit", "administrative-punishment", "commendation",
                        "volunteer-service", "criminal-judgment", "refusal-to-perform", "tax-and-fee-arrears",
                        "improper-means", "compelled-performance", "credit-pledge-violation", "serious-untrustworthy-list"]
        for code in required { #expect(catalog.item(code) != nil, "missing \(code)") }
        #expect(catalog.item("serious-untrustworthy-list")?.category == .untrustworthySerious)
        #expect(catalog.item("commendation")?.category == .positive)
        #expect(catalog.version == "national@2026.1+jiangxi@2026.1")
        // The double-publicity punishment fields are there under their national codes.
        let punishment = try #require(catalog.item("administrative-punishment"))
        for code in ["CF_WSH", "CF_CFLB", "CF_NR_FK", "CF_JDRQ", "CF_CFJGDM", "CF_SJLYDM"] {
            #expect(punishment.field(code) != nil, "missing \(code)")
        }
        #expect(punishment.field("CF_NR_FK")?.scale == 6)
    }

    @Test func citySupplementAddsItemsWithoutRebuilding() throws {
        let catalog = try Catalog(layers: [national, supplement([item(fields: [])])])
        #expect(catalog.item("city-item") != nil)
        #expect(catalog.version == "national@2026.1+360100@1")
    }

    @Test(arguments: [
        ("religion", "宗教", "religious faith"), ("bloodType", "血型", "blood type"), ("note", "指纹采集", "fingerprints"),
        ("geneticTest", "检测", "genetic information"), ("x", "病史", "medical history"), ("illness", "情况", "illness"),
        ("medicalRecord", "记录", "medical history"), ("DNA_PROFILE", "档案", "genetic information"), ("faith", "信仰", "religious faith"),
    ])
    func article37FieldsAreRefused(_ name: String, _ label: String, _ category: String) {
        let layer = supplement([item(fields: [FieldSpec(name: name, label: label, type: .string)])])
        #expect(throws: CatalogError.forbiddenField(layer: "360100", item: "city-item", field: name, category: category)) {
            try Catalog(layers: [national, layer])
        }
    }

    @Test func wordsThatOnlyLookSimilarAreAllowed() throws {
        let fields = [FieldSpec(name: "generalManager", label: "总经理", type: .string),
                      FieldSpec(name: "bloodlessCoup", label: "备注", type: .string)]
        #expect(throws: Never.self) { try Catalog(layers: [national, supplement([item(fields: fields)])]) }
    }

    @Test func structuralErrorsAreRefusedWithContext() {
        #expect(throws: CatalogError.nationalLayerCount(0)) { try Catalog(layers: [supplement([])]) }
        #expect(throws: CatalogError.self) { try Catalog(layers: [national, supplement([item("administrative-punishment", fields: [])])]) }
        let noDate = CatalogItem(code: "x", name: "x", title: "x", category: .basic, basis: "", subjectKinds: [.legalPerson],
                                 disclosure: .public, decisionDateField: "missing", fields: [])
        #expect(throws: CatalogError.invalidItem(layer: "360100", item: "x", reason: "its decisionDateField 'missing' must be a required date field")) {
            try Catalog(layers: [national, supplement([noDate])])
        }
        for bad in [FieldSpec(name: "n", label: "n", type: .string, notAfter: "date"), FieldSpec(name: "n", label: "n", type: .date, notAfter: "nope")] {
            #expect(throws: CatalogError.self) { try Catalog(layers: [national, supplement([item(fields: [bad])])]) }
        }
        #expect(throws: Never.self) {
            try Catalog(layers: [national, supplement([item(fields: [FieldSpec(name: "n", label: "n", type: .date, notAfter: "date")])])])
        }
        let badEnum = item(fields: [FieldSpec(name: "e", label: "e", type: .enum)])
        #expect(throws: CatalogError.invalidField(layer: "360100", item: "city-item", field: "e", reason: "an enum field needs its values")) {
            try Catalog(layers: [national, supplement([badEnum])])
        }
    }

    /// records.md: a `notAfter` names *another* date field; the decision date is a required date;
    /// a punishment item carries each field its classification reads; a layer has a version.
    @Test func theLoaderRefusesEachRuleOfItsFields() {
        let notAfter = "notAfter names another date field of the item, and only a date has one"
        for (field, other) in [("n", "n"), ("n", "label")] {
            let fields = [FieldSpec(name: "label", label: "标签", type: .string), FieldSpec(name: field, label: "n", type: .date, notAfter: other)]
            #expect(throws: CatalogError.invalidField(layer: "360100", item: "city-item", field: field, reason: "\(notAfter) ('\(other)')"),
                    "notAfter '\(other)'") {
                try Catalog(layers: [national, supplement([item(fields: fields)])])
            }
        }
        let decisionDate = "its decisionDateField 'decided' must be a required date field"
        for spec in [FieldSpec(name: "decided", label: "决定日期", type: .date), FieldSpec(name: "decided", label: "决定日期", type: .string, required: true)] {
            let bad = CatalogItem(code: "x", name: "x", title: "x", category: .basic, basis: "", subjectKinds: [.legalPerson],
                                  disclosure: .public, decisionDateField: "decided", fields: [spec])
            #expect(throws: CatalogError.invalidItem(layer: "360100", item: "x", reason: decisionDate)) {
                try Catalog(layers: [national, supplement([bad])])
            }
        }
        let punishmentFields = [FieldSpec(name: "date", label: "日期", type: .date, required: true),
                                FieldSpec(name: "procedure", label: "程序", type: .enum, values: ["simplified", "general"]),
                                FieldSpec(name: "severity", label: "情节", type: .enum, values: ["minor", "general", "serious"]),
                                FieldSpec(name: "harmEliminated", label: "危害后果已消除", type: .boolean)]
        for (missing, type) in [("severity", "enum"), ("harmEliminated", "boolean")] {
            let punishment = CatalogItem(code: "city-punishment", name: "测试", title: "Test", category: .basic, basis: "Article 11",
                                         subjectKinds: [.legalPerson], disclosure: .shared, decisionDateField: "date", punishment: true,
                                         fields: punishmentFields.filter { $0.name != missing })
            #expect(throws: CatalogError.invalidItem(layer: "360100", item: "city-punishment",
                                                     reason: "a punishment item needs a '\(missing)' field of type \(type)")) {
                try Catalog(layers: [national, supplement([punishment])])
            }
        }
        let complete = CatalogItem(code: "city-punishment", name: "测试", title: "Test", category: .basic, basis: "Article 11",
                                   subjectKinds: [.legalPerson], disclosure: .shared, decisionDateField: "date", punishment: true,
                                   fields: punishmentFields)
        #expect(throws: Never.self) { try Catalog(layers: [national, supplement([complete])]) }
        var unversioned = supplement([])
        unversioned.version = ""
        #expect(throws: CatalogError.self) { try Catalog(layers: [national, unversioned]) }
    }

    /// The loader's other refusals (records.md, Catalog files), each naming what is at fault.
    @Test func theLoaderRefusesWhatRecordsMdRefuses() {
        var future = supplement([])
        future.format = "creditsync-catalog/2"
        #expect(throws: CatalogError.unsupportedFormat(layer: "360100", format: "creditsync-catalog/2")) { try Catalog(layers: [national, future]) }
        #expect(throws: CatalogError.duplicateLayer("360100")) { try Catalog(layers: [national, supplement([]), supplement([])]) }
        #expect(throws: CatalogError.nationalLayerCount(2)) { try Catalog(layers: [national, national]) }
        let twice = item(fields: [FieldSpec(name: "n", label: "n", type: .string), FieldSpec(name: "n", label: "n2", type: .string)])
        #expect(throws: CatalogError.invalidField(layer: "360100", item: "city-item", field: "n", reason: "it is defined twice")) {
            try Catalog(layers: [national, supplement([twice])])
        }
        // Responsible persons (Article 33) belong to items about legal persons only.
        let persons = item(fields: [FieldSpec(name: "people", label: "责任人", type: .persons)])
        #expect(throws: CatalogError.invalidField(layer: "360100", item: "city-item", field: "people",
                                                  reason: "responsible persons apply only to items about legal persons")) {
            try Catalog(layers: [national, supplement([persons])])
        }
        // A punishment item carries what its classification reads.
        let punishment = CatalogItem(code: "city-punishment", name: "测试", title: "Test", category: .basic, basis: "Article 11",
                                     subjectKinds: [.legalPerson], disclosure: .shared, decisionDateField: "date", punishment: true,
                                     fields: [FieldSpec(name: "date", label: "日期", type: .date, required: true)])
        #expect(throws: CatalogError.invalidItem(layer: "360100", item: "city-punishment", reason: "a punishment item needs a 'procedure' field of type enum")) {
            try Catalog(layers: [national, supplement([punishment])])
        }
    }

    @Test func malformedFileNamesTheProblem() {
        #expect(throws: CatalogError.self) { try Catalog.decodeLayer(Data("{\"format\":1}".utf8), source: "bad.json") }
        do {
            _ = try Catalog.decodeLayer(Data("{\"format\":\"creditsync-catalog/1\",\"layer\":\"city\",\"id\":\"x\",\"version\":\"1\",\"title\":\"t\"}".utf8), source: "bad.json")
            Issue.record("expected a refusal")
        } catch {
            #expect("\(error)".contains("bad.json"))
            #expect("\(error)".contains("items"))
        }
    }
}
