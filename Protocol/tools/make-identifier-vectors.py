#!/usr/bin/env python3
"""Generates Protocol/vectors/identifiers.json.

An implementation independent of the Swift code (GB 11643-1999 MOD 11-2, GB 32100-2015 MOD 31-3,
GB 11714) so that the vectors check the product rather than restate it. The vectors from the
reference facts are listed verbatim; the rest are derived here. Run from the repository root:

    python3 Protocol/tools/make-identifier-vectors.py > Protocol/vectors/identifiers.json
"""
import json

W18 = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
C18 = "10X98765432"
ALPHA = "0123456789ABCDEFGHJKLMNPQRTUWXY"
W31 = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
WORG = [3, 7, 9, 10, 5, 8, 4, 2]


def rid_check(body17):
    return C18[sum(int(c) * w for c, w in zip(body17, W18)) % 11]


def org_check(body8):
    s = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body8, WORG))
    r = 11 - s % 11
    return "X" if r == 10 else "0" if r == 11 else str(r)


def uscc_check(body17):
    return ALPHA[(31 - sum(ALPHA.index(c) * w for c, w in zip(body17, W31)) % 31) % 31]


def v(input, kind, valid, normalized=None, code=None, note=""):
    d = {"input": input, "kind": kind, "valid": valid}
    if normalized is not None:
        d["normalized"] = normalized
    if code is not None:
        d["code"] = code
    d["note"] = note
    return d


vectors = [
    # From the reference facts (recomputed by hand there).
    v("360426199101010071", "resident-id", True, "360426199101010071", note="Jiangxi 德安县"),
    v("44011320141005001X", "resident-id", True, "44011320141005001X", note="check X"),
    v("44011320141005001x", "resident-id", True, "44011320141005001X", note="lowercase x normalized"),
    v("412723199010050012", "resident-id", True, "412723199010050012"),
    v("110102199101010078", "resident-id", True, "110102199101010078"),
    v("11010519491231002X", "resident-id", True, "11010519491231002X", note="worked example, S=167"),
    v("440524188001010014", "resident-id", True, "440524188001010014", note="born 1880"),
    v("810000199408230021", "resident-id", True, "810000199408230021", note="HK/Macau residence permit"),
    v("36042619910102009X", "resident-id", False, code="check-character", note="correct check is 3"),
    v("360730198601011111", "resident-id", False, code="check-character", note="correct check is 4"),
    v("360426199113010079", "resident-id", False, code="birth-date", note="month 13"),
    v("T60426199101010078", "resident-id", False, code="format"),
    v("990426199112010074", "resident-id", False, code="division-code"),
    v("91110000600037341L", "uscc", True, "91110000600037341L", note="worked example, S=538"),
    v("121200004013590816", "uscc", True, "121200004013590816"),
    v("91310115MA1K3BTP2B", "uscc", True, "91310115MA1K3BTP2B"),
    v("91620105L015101280", "uscc", True, "91620105L015101280", note="check value 0"),
    v("9144030071526726XG", "uscc", True, "9144030071526726XG", note="organization-code check X"),
    v("92340621MA2UK3PJXE", "uscc", True, "92340621MA2UK3PJXE"),
    v("12440300MB2C92173E", "uscc", True, "12440300MB2C92173E"),
    v("12440300MB2C92173A", "uscc", False, code="check-character"),
    v("91110000600037341N", "uscc", False, code="check-character"),
    v("9111000060003IOZSV", "uscc", False, code="format", note="characters outside the alphabet"),
    v("12345", "uscc", False, code="length"),
    v("91350100M0001TGQXM", "uscc", True, "91350100M0001TGQXM", note="Fujian 2015 pilot code: fails the check, accepted with a warning"),
]

# Our own: normalization, the legacy form, and each rule of the standards.
legacy15 = "360426910101007"  # 15-digit form of 360426 born 1991-01-01, sequence 007
body = "36042619" + legacy15[6:]
vectors += [
    v("  11010519491231002X\t", "resident-id", True, "11010519491231002X", note="surrounding whitespace trimmed"),
    v(legacy15, "resident-id", True, body + rid_check(body), note="15-digit legacy form: 19 inserted, check appended"),
    v("36042691010100", "resident-id", False, code="length", note="14 characters"),
    v("3604261991010100X1", "resident-id", False, code="format", note="X not in the last place"),
]
b = "36042618491231001"
vectors.append(v(b + rid_check(b), "resident-id", False, code="birth-date", note="born 1849, before 1850-01-01"))
b = "36042621000101001"
vectors.append(v(b + rid_check(b), "resident-id", False, code="birth-date", note="born 2100, in the future"))
b = "36042619910229001"
vectors.append(v(b + rid_check(b), "resident-id", False, code="birth-date", note="1991-02-29 does not exist"))
b = "36042620000229001"
vectors.append(v(b + rid_check(b), "resident-id", True, b + rid_check(b), note="2000-02-29 exists (leap year)"))
b = "36010219850615002"
vectors.append(v(b + rid_check(b), "resident-id", True, b + rid_check(b), note="360102 东湖区, a code retired in 2004, still valid in an identity number"))
b = "83000019900101002"
vectors.append(v(b + rid_check(b), "resident-id", True, b + rid_check(b), note="Taiwan residence permit"))
b = "36999919900101002"
vectors.append(v(b + rid_check(b), "resident-id", False, code="division-code", note="360000-range code that never existed"))


def uscc(a, t, div, org8):
    b17 = a + t + div + org8 + org_check(org8)
    return b17 + uscc_check(b17)


good = uscc("9", "1", "360100", "MA35F2K0")
vectors += [
    v(good, "uscc", True, good, note="Nanchang enterprise, composed here"),
    v(good.lower(), "uscc", True, good, note="lowercase letters upper-cased"),
    v(" " + good + " ", "uscc", True, good, note="whitespace trimmed"),
]
bad_auth = "B1" + good[2:17]
vectors.append(v(bad_auth + uscc_check(bad_auth), "uscc", False, code="registration-authority", note="B is not an authority"))
bad_type = "94" + good[2:17]
vectors.append(v(bad_type + uscc_check(bad_type), "uscc", False, code="organization-type", note="market regulation issues types 1-3 only"))
bad_div = "91" + "3601A0" + good[8:17]
vectors.append(v(bad_div + uscc_check(bad_div), "uscc", False, code="division-code", note="letter in the division code"))
org_wrong = good[:16] + ("1" if good[16] != "1" else "2")
vectors.append(v(org_wrong + uscc_check(org_wrong), "uscc", False, code="organization-code-check", note="MOD 31 fixed up, embedded organization code wrong"))
yok = uscc("Y", "1", "360100", "12345678")
vectors.append(v(yok, "uscc", True, yok, note="authority Y type 1"))
vectors.append(v("Y2" + yok[2:17] + uscc_check("Y2" + yok[2:17]), "uscc", False, code="organization-type"))
vectors.append(v("", "uscc", False, code="empty"))
vectors.append(v("", "resident-id", False, code="empty"))

print(json.dumps({"description": "Identifier test vectors: input, the kind to check it as, and the expected outcome. "
                  "code is the machine-readable failure code of an invalid value. Checked with today = 2026-11-20.",
                  "today": "2026-11-20", "vectors": vectors}, ensure_ascii=False, indent=1))
