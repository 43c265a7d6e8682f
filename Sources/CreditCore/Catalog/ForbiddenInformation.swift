/// Article 37: religious faith, genetics, fingerprints, blood type, illness and medical history
/// are never collected.
///
/// The rule lives in code, not in the catalog files, so that no data file can switch it off. A
/// field is refused when its name, label or description names one of these categories: English
/// words are matched as whole words (so `general` does not match `gene`), Chinese terms as
/// substrings.
public enum ForbiddenInformation {
    static let categories: [(category: String, words: Set<String>, chinese: [String])] = [
        ("religious faith", ["religion", "religions", "religious", "faith", "belief", "beliefs"], ["宗教", "信仰"]),
        ("genetic information", ["gene", "genes", "genetic", "genetics", "genome", "genomic", "dna"], ["基因", "遗传"]),
        ("fingerprints", ["fingerprint", "fingerprints"], ["指纹"]),
        ("blood type", ["blood", "bloodtype"], ["血型", "血液"]),
        ("illness", ["illness", "illnesses", "disease", "diseases", "diagnosis", "sickness"], ["疾病", "病情", "患病", "诊断"]),
        ("medical history", ["medical", "anamnesis"], ["病史", "病历", "既往史", "医疗记录"]),
    ]

    /// The forbidden category `field` would collect, or `nil`.
    public static func match(_ field: FieldSpec) -> String? {
        let texts = [field.name, field.label, field.description ?? ""]
        let words = Set(texts.flatMap(Self.words))
        for entry in categories {
            if !entry.words.isDisjoint(with: words) { return entry.category }
            if texts.contains(where: { text in entry.chinese.contains { text.contains($0) } }) { return entry.category }
        }
        return nil
    }

    /// Splits identifiers and prose into lowercase words: `bloodType`, `blood_type` and
    /// `Blood type` all give `blood`, `type`.
    static func words(_ text: String) -> [String] {
        var result: [String] = []
        var current = ""
        var previousLower = false
        for c in text {
            if c.isASCII, c.isLetter {
                if c.isUppercase, previousLower, !current.isEmpty {
                    result.append(current)
                    current = ""
                }
                current.append(Character(c.lowercased()))
                previousLower = c.isLowercase
            } else {
                if !current.isEmpty { result.append(current) }
                current = ""
                previousLower = false
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}
