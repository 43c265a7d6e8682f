#!/usr/bin/env python3
"""Generates Protocol/vectors/records.json: records with the validation outcome, class, Article 27
flag and display window the catalog and the national rules require. Expectations are written by
hand from the regulation, not computed by the product. Run from the repository root:

    python3 Protocol/tools/make-record-vectors.py > Protocol/vectors/records.json
"""
import copy, json

COMPANY = {"kind": "legal-person", "name": "南昌赣江商贸有限公司", "uscc": "91110000600037341L"}
ADULT = {"kind": "natural-person", "name": "王伟", "residentId": "360426199101010071"}
MINOR = {"kind": "natural-person", "name": "李敏", "residentId": "360426201005050030"}  # born 2010-05-05
AUTHORITY = "121200004013590816"

PUNISHMENT = {
    "CF_WSH": "洪市监罚〔2026〕1号", "CF_WFXW": "虚假宣传", "CF_SY": "当事人发布虚假广告。", "CF_YJ": "《中华人民共和国广告法》第五十五条",
    "CF_CFLB": "罚款", "CF_NR": "罚款2000元", "CF_NR_FK": 0.2, "CF_JDRQ": "2026-05-10", "CF_CFJG": "南昌市市场监督管理局",
    "CF_CFJGDM": AUTHORITY, "CF_SJLY": "南昌市市场监督管理局", "CF_SJLYDM": AUTHORITY, "procedure": "general", "severity": "general",
}


def punishment(rid, subject=COMPANY, **changes):
    fields = copy.deepcopy(PUNISHMENT)
    for k, v in changes.items():
        if v is None:
            fields.pop(k, None)
        else:
            fields[k] = v
    return {"item": "administrative-punishment", "recordId": rid, "subject": subject, "fields": fields}


LIST = {
    "listName": "严重违法失信主体名单", "designatingAuthority": "南昌市市场监督管理局", "designatingAuthorityCode": AUTHORITY,
    "designationDocument": "洪市监列〔2026〕3号", "designationDate": "2026-06-01", "reason": "提交虚假材料取得许可", "basis": "《市场监督管理严重违法失信名单管理办法》",
    "noticeDate": "2026-05-20", "noticeDocument": "洪市监告〔2026〕3号", "objectionReview": "未提出异议",
}

vectors = []


def canonical(record):
    """records.md, Canonical JSON: members sorted (code point order is UTF-8 byte order), no
    white space, raw UTF-8, only quote, backslash and control characters escaped."""
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def add(name, record, valid, recordClass=None, lenient=False, window=None, errors=(), note="", stored=None):
    """`stored`: the record as validation stores it, when that differs from the record sent."""
    e = {"valid": valid}
    if valid:
        e["recordClass"] = recordClass
        e["lenient"] = lenient
        e["displayWindow"] = window  # [rule, earliestEnd, latestEnd] or null
        e["canonical"] = canonical(stored if stored is not None else record)
    else:
        e["errors"] = [list(x) for x in errors]  # [field, code]
    vectors.append({"name": name, "note": note, "record": record, "expect": e})


add("general punishment under Order 36", punishment("p1"), True, "untrustworthy-ordinary", False,
    ["NDRC-36", "2026-08-10", "2027-05-10"], note="decided 2026-05-10: 3 months to 1 year")
add("serious punishment under Order 36", punishment("p2", severity="serious"), True, "untrustworthy-ordinary", False,
    ["NDRC-36", "2027-05-10", "2029-05-10"])
add("minor punishment under Order 36", punishment("p3", severity="minor"), True, "untrustworthy-ordinary", False,
    ["NDRC-36", "2026-05-10", "2026-08-10"], note="normally not displayed, at most 3 months")
add("punishment under Order 58", punishment("p4", CF_JDRQ="2025-01-31"), True, "untrustworthy-ordinary", False,
    ["NDRC-58", "2025-04-30", "2028-01-31"], note="3 months to 3 years; month end clamps")
add("last day of Order 58", punishment("p4b", CF_JDRQ="2026-03-31"), True, "untrustworthy-ordinary", False,
    ["NDRC-58", "2026-06-30", "2029-03-31"])
add("simplified procedure is not untrustworthiness (Art. 15)", punishment("p5", procedure="simplified", CF_CFLB="警告", CF_NR="警告", CF_NR_FK=None),
    True, "punishment-not-untrustworthy", False, None)
add("minor and remedied is not untrustworthiness (Art. 15)", punishment("p6", severity="minor", harmEliminated=True),
    True, "punishment-not-untrustworthy", False, None)
add("remedied but not minor stays untrustworthy", punishment("p7", severity="general", harmEliminated=True),
    True, "untrustworthy-ordinary", False, ["NDRC-36", "2026-08-10", "2027-05-10"])
add("minor at decision date is lenient (Art. 27)", punishment("p8", subject=MINOR), True, "untrustworthy-ordinary", True,
    ["NDRC-36", "2026-08-10", "2027-05-10"], note="born 2010-05-05, 16 on 2026-05-10")
add("adult is not lenient", punishment("p9", subject=ADULT), True, "untrustworthy-ordinary", False,
    ["NDRC-36", "2026-08-10", "2027-05-10"])
add("before any national rule", punishment("p10", CF_JDRQ="2022-05-10"), True, "untrustworthy-ordinary", False, None)
add("values are stored in canonical form",
    punishment("p12", CF_NR_FK="0.500", CF_WFXW="  虚假宣传 ", subject={**ADULT, "residentId": "11010519491231002x"}),
    True, "untrustworthy-ordinary", False, ["NDRC-36", "2026-08-10", "2027-05-10"],
    note="a decimal in text, a string with spaces around it and a lower-case check character",
    stored=punishment("p12", CF_NR_FK=0.5, subject={**ADULT, "residentId": "11010519491231002X"}))
add("unknown field is an error", punishment("e1", CF_BLOOD="A"), False, errors=[("fields.CF_BLOOD", "unknown-field")])
add("every problem is reported",
    punishment("e2", CF_WSH=None, CF_NR_FK="two thousand", CF_JDRQ="2026-13-01", CF_CFLB="打板子", CF_CFJGDM="91110000600037341N"),
    False, errors=[("fields.CF_WSH", "required"), ("fields.CF_NR_FK", "number"), ("fields.CF_JDRQ", "date"),
                   ("fields.CF_CFLB", "not-in-list"), ("fields.CF_CFJGDM", "check-character")])
add("decimal scale is limited to 6", punishment("e3", CF_NR_FK="0.1234567"), False, errors=[("fields.CF_NR_FK", "scale")])
add("decision date in the future", punishment("e4", CF_JDRQ="2026-12-01"), False, errors=[("fields.CF_JDRQ", "future-date")])
add("invalid subject credit code", punishment("e5", subject={**COMPANY, "uscc": "91110000600037341N"}), False,
    errors=[("subject.uscc", "check-character")])
add("natural person needs an identifier", punishment("e6", subject={"kind": "natural-person", "name": "张三"}), False,
    errors=[("subject.residentId", "required")])
add("other document instead of identity number",
    punishment("p11", subject={"kind": "natural-person", "name": "John Smith", "document": {"type": "passport", "number": "E12345678"}}),
    True, "untrustworthy-ordinary", False, ["NDRC-36", "2026-08-10", "2027-05-10"])
add("unknown item", {"item": "gossip", "recordId": "e7", "subject": COMPANY, "fields": {}}, False, errors=[("item", "unknown-item")])
add("unknown top-level key", {**punishment("e8"), "extra": 1}, False, errors=[("extra", "unknown-field")])
# A subject, a document and a responsible person are strict objects too (records.md).
add("unknown member of the subject", punishment("e9", subject={**COMPANY, "phone": "0791-1"}), False,
    errors=[("subject.phone", "unknown-field")])
add("unknown member of a document",
    punishment("e10", subject={"kind": "natural-person", "name": "John Smith", "document": {"type": "passport", "number": "E12345678", "issuer": "GB"}}),
    False, errors=[("subject.document.issuer", "unknown-field")])
add("unknown member of a responsible person",
    {"item": "serious-untrustworthy-list", "recordId": "l8", "subject": COMPANY,
     "fields": {**LIST, "responsiblePersons": [{"role": "legal-representative", "name": "陈杰", "residentId": "360102198001010056", "phone": "1"}]}},
    False, errors=[("fields.responsiblePersons[0].phone", "unknown-field")])
add("serious list entry names its legal representative (Art. 33)",
    {"item": "serious-untrustworthy-list", "recordId": "l1", "subject": COMPANY,
     "fields": {**LIST, "responsiblePersons": [{"role": "legal-representative", "name": "陈杰", "residentId": "360102198001010056"},
                                               {"role": "actual-controller", "name": "刘芳", "residentId": "11010519491231002X"}]}},
    True, "untrustworthy-serious", False, None)
add("serious list entry of a legal person without persons (Art. 33)",
    {"item": "serious-untrustworthy-list", "recordId": "l2", "subject": COMPANY, "fields": LIST},
    False, errors=[("fields.responsiblePersons", "required")])
add("serious list persons without a legal representative (Art. 33)",
    {"item": "serious-untrustworthy-list", "recordId": "l3", "subject": COMPANY,
     "fields": {**LIST, "responsiblePersons": [{"role": "actual-controller", "name": "刘芳", "residentId": "11010519491231002X"}]}},
    False, errors=[("fields.responsiblePersons", "missing-role")])
add("serious list person with an invalid identity number",
    {"item": "serious-untrustworthy-list", "recordId": "l4", "subject": COMPANY,
     "fields": {**LIST, "responsiblePersons": [{"role": "legal-representative", "name": "陈杰", "residentId": "360102198001010057"}]}},
    False, errors=[("fields.responsiblePersons[0].residentId", "check-character")])

LR = {"responsiblePersons": [{"role": "legal-representative", "name": "陈杰", "residentId": "360102198001010056"}]}
add("serious list designation without its prior notice (Art. 31)",
    {"item": "serious-untrustworthy-list", "recordId": "l5", "subject": COMPANY,
     "fields": {**{k: v for k, v in LIST.items() if k not in ("noticeDate", "noticeDocument", "objectionReview")}, **LR}},
    False, errors=[("fields.noticeDate", "required"), ("fields.noticeDocument", "required"), ("fields.objectionReview", "required")])
add("serious list notice served after the designation (Art. 31)",
    {"item": "serious-untrustworthy-list", "recordId": "l6", "subject": COMPANY, "fields": {**LIST, **LR, "noticeDate": "2026-06-02"}},
    False, errors=[("fields.noticeDate", "date-order")])
add("serious list notice served on the day of the designation",
    {"item": "serious-untrustworthy-list", "recordId": "l7", "subject": COMPANY, "fields": {**LIST, **LR, "noticeDate": "2026-06-01"}},
    True, "untrustworthy-serious", False, None)

# records.md: the record id, the subject's kind and name; identifiers.md: a document number's shape.
add("record id missing", {k: v for k, v in punishment("x").items() if k != "recordId"}, False,
    errors=[("recordId", "required")], note="records.md: recordId is REQUIRED")
add("record id of 129 characters", punishment("r" * 129), False, errors=[("recordId", "too-long")],
    note="records.md: 1–128 characters after trimming")
add("record id with a line feed", punishment("CF\n1"), False, errors=[("recordId", "control-character")],
    note="records.md: a record id has no control characters, line feed and tab included")
add("record id with a tab", punishment("A\tB"), False, errors=[("recordId", "control-character")])
add("record id with DEL", punishment("p\u007f1"), False, errors=[("recordId", "control-character")], note="U+007F is a control character")
add("text field with a C1 control character", punishment("p1", CF_SY="当事人发布\u0085虚假广告"), False,
    errors=[("fields.CF_SY", "control-character")],
    note="U+0085 (next line) inside a text is a control character (at either end it is trimmed as white space); "
         "line feed and tab are the only ones a text may hold")
add("text field with U+0080 and U+009F", punishment("p1", CF_SY="当事人\u0080发布\u009f虚假广告"), False,
    errors=[("fields.CF_SY", "control-character")], note="the first and the last C1 control character")
add("text field with a no-break space", punishment("p1", CF_SY="当事人发布\u00a0虚假广告"), True, "untrustworthy-ordinary", False,
    ["NDRC-36", "2026-08-10", "2027-05-10"], note="U+00A0 follows the C1 range and is no control character")
add("subject name missing", punishment("p1", subject={k: v for k, v in COMPANY.items() if k != "name"}), False,
    errors=[("subject.name", "required")], note="records.md: subject.name is REQUIRED")
add("subject name of 201 characters", punishment("p1", subject={**COMPANY, "name": "赣" * 201}), False,
    errors=[("subject.name", "too-long")], note="records.md: at most 200 characters")
add("subject kind the item does not cover",
    {"item": "good-faith-taxpayer-a", "recordId": "t1", "subject": {"kind": "natural-person", "name": "张三", "residentId": "11010519491231002X"},
     "fields": {"evaluationYear": 2025, "taxAuthority": "国家税务总局南昌市税务局", "publicationDate": "2026-04-20"}},
    False, errors=[("subject.kind", "not-allowed")],
    note="records.md: subject.kind MUST be one of the item's subjectKinds (an A-grade taxpayer is a legal person or an individual business)")
for name, number, note in [("document number of 3 characters", "E12", "identifiers.md: a document number is 4–32 characters"),
                           ("document number of 33 characters", "E" + "1" * 32, ""),
                           ("document number with a space inside", "E123 45678", "only Latin letters, digits, '-', '(' and ')'"),
                           ("document number in full-width letters", "Ｅ12345678", "full-width Ｅ is not a Latin letter")]:
    add(name, punishment("p11", subject={"kind": "natural-person", "name": "John Smith", "document": {"type": "passport", "number": number}}),
        False, errors=[("subject.document.number", "format")], note=note)

# DEL and C1 controls are written escaped, so that the file shows them.
print(json.dumps({"description": "Record validation and classification vectors, checked with today = 2026-11-20 against the bundled catalog. "
                  "expect.displayWindow is [rule, earliestEnd, latestEnd] or null; expect.canonical is the record's canonical JSON (records.md); "
                  "expect.errors lists [field, code] pairs that must all be reported.",
                  "today": "2026-11-20", "vectors": vectors}, ensure_ascii=False, indent=1)
      .translate({c: "\\u%04x" % c for c in range(0x7F, 0xA0)}))
