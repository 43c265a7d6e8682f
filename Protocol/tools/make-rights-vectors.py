#!/usr/bin/env python3
"""Generates Protocol/vectors/rights.json: rights documents (operations 4-7) with whether they
are valid, and a scenario of changes in merge order with the effect Protocol/rights.md gives
each. Expectations are written by hand from the spec, not computed by the product. Run from the
repository root:

    python3 Protocol/tools/make-rights-vectors.py > Protocol/vectors/rights.json
"""
import json

PROVIDER = "113601000010000105"      # a Nanchang (360100) unit: the records' providing unit, in the home node's area (merge.md §1)
CHECKER = "113607000090000155"       # a Ganzhou (360700) unit asked to check: it answers through node 360700, whose area holds it
COMPANY = {"kind": "legal-person", "name": "南昌赣江商贸有限公司", "uscc": "91110000600037341L"}


def canonical(obj):
    """Canonical JSON: keys sorted by their UTF-8 bytes, no white space, UTF-8 text."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def punishment(rid, decided, severity):
    return {"item": "administrative-punishment", "recordId": rid, "subject": COMPANY, "fields": {
        "CF_WSH": "洪市监罚〔2026〕%s号" % rid, "CF_WFXW": "虚假宣传", "CF_SY": "当事人发布虚假广告。",
        "CF_YJ": "《中华人民共和国广告法》第五十五条", "CF_CFLB": "罚款", "CF_NR": "罚款2000元", "CF_NR_FK": 0.2,
        "CF_JDRQ": decided, "CF_CFJG": "南昌市市场监督管理局", "CF_CFJGDM": PROVIDER, "CF_SJLY": "南昌市市场监督管理局",
        "CF_SJLYDM": PROVIDER, "procedure": "general", "severity": severity}}


LIST_ENTRY = {"item": "serious-untrustworthy-list", "recordId": "l1", "subject": COMPANY, "fields": {
    "listName": "严重违法失信主体名单", "designatingAuthority": "南昌市市场监督管理局", "designatingAuthorityCode": PROVIDER,
    "designationDocument": "洪市监列〔2026〕3号", "designationDate": "2026-06-01", "reason": "提交虚假材料取得许可",
    "basis": "《市场监督管理严重违法失信名单管理办法》", "noticeDate": "2026-05-20", "noticeDocument": "洪市监告〔2026〕3号",
    "objectionReview": "未提出异议",
    "responsiblePersons": [{"role": "legal-representative", "name": "陈杰", "residentId": "360102198001010056"}]}}


def doc(name, operation, payload, valid, code=None, field=None, reason="", decision=""):
    text = payload if isinstance(payload, str) else canonical(payload)
    entry = {"name": name, "operation": operation, "provider": PROVIDER, "payload": text, "reason": reason,
             "decisionDocument": decision, "valid": valid}
    if not valid:
        entry["code"] = code or "invalid-rights"
        entry["field"] = field
    return entry


documents = [
    doc("objection filed", "objection-label", {"event": "filed", "applicant": "赣江商贸", "grounds": "罚款金额记载有误"}, True),
    doc("a member the event does not have", "objection-label", {"event": "filed", "applicant": "甲", "grounds": "乙", "note": "丙"}, False, field="payload.note"),
    doc("empty grounds", "objection-label", {"event": "filed", "applicant": "甲", "grounds": ""}, False, field="payload.grounds"),
    doc("white space around the applicant", "objection-label", {"event": "filed", "applicant": " 甲", "grounds": "乙"}, False, field="payload.applicant"),
    doc("applicant of 201 characters", "objection-label", {"event": "filed", "applicant": "甲" * 201, "grounds": "乙"}, False, field="payload.applicant"),
    doc("grounds of 2,000 characters", "objection-label", {"event": "filed", "applicant": "甲", "grounds": "乙" * 2000}, True),
    doc("keys not sorted", "objection-label", '{"event":"filed","applicant":"甲","grounds":"乙"}', False, field="payload"),
    doc("white space between members", "objection-label", '{"applicant": "甲","event":"filed","grounds":"乙"}', False, field="payload"),
    doc("not JSON", "objection-label", "filed", False, field="payload"),
    doc("a list, not an object", "objection-label", "[]", False, field="payload"),
    doc("an event the operation does not carry", "objection-outcome", {"event": "filed", "applicant": "甲", "grounds": "乙"}, False, field="payload.event"),
    doc("an unknown event", "objection-label", {"event": "appealed", "case": "360700-1"}, False, field="payload.event"),
    doc("checks by one unit", "objection-label", {"event": "checks", "case": "360700-1", "units": [CHECKER]}, True),
    doc("checks by no unit", "objection-label", {"event": "checks", "case": "360700-1", "units": []}, False, field="payload.units"),
    doc("checks by 21 units", "objection-label", {"event": "checks", "case": "360700-1", "units": [CHECKER] * 21}, False, field="payload.units"),
    doc("checks by the record's own provider", "objection-label", {"event": "checks", "case": "360700-1", "units": [PROVIDER]}, False, field="payload.units[0]"),
    doc("checks by an invalid credit code", "objection-label", {"event": "checks", "case": "360700-1", "units": ["91110000600037341X"]}, False, field="payload.units[0]"),
    doc("checks by one unit twice", "objection-label", {"event": "checks", "case": "360700-1", "units": [CHECKER, CHECKER]}, False, field="payload.units[1]"),
    doc("checked", "objection-label", {"event": "checked", "case": "360700-1", "unit": CHECKER, "finding": "核查属实"}, True),
    doc("checked without a finding", "objection-label", {"event": "checked", "case": "360700-1", "unit": CHECKER}, False, field="payload.finding"),
    doc("paused for an expert review", "objection-label", {"event": "paused", "case": "360700-1", "cause": "expert-review"}, True),
    doc("paused for lunch", "objection-label", {"event": "paused", "case": "360700-1", "cause": "lunch"}, False, field="payload.cause"),
    doc("resumed", "objection-label", {"event": "resumed", "case": "360700-1"}, True),
    doc("resumed without its case", "objection-label", {"event": "resumed"}, False, field="payload.case"),
    doc("upheld with a reason", "objection-outcome", {"event": "upheld", "case": "360700-1"}, True, reason="异议成立，已更正"),
    doc("rejected without a reason", "objection-outcome", {"event": "rejected", "case": "360700-1"}, False, field="reason"),
    doc("restoration applied", "restoration", {"event": "applied", "applicant": "赣江商贸", "statement": "已缴纳罚款并完成整改"}, True),
    doc("restoration applied without a statement", "restoration", {"event": "applied", "applicant": "赣江商贸"}, False, field="payload.statement"),
    doc("restoration granted", "restoration", {"event": "granted", "case": "360900-3"}, True, reason="符合修复条件"),
    doc("restoration refused with white space for a reason", "restoration", {"event": "refused", "case": "360900-3"}, False, field="reason", reason="  "),
    doc("list removal", "list-removal", {"event": "removed"}, True, reason="已履行义务", decision="洪市监移〔2026〕1号"),
    doc("list removal without its decision document", "list-removal", {"event": "removed"}, False, field="decisionDocument", reason="已履行义务"),
    doc("list removal naming a case", "list-removal", {"event": "removed", "case": "360100-1"}, False, field="payload.case", reason="x", decision="y"),
]

# The scenario: nodes 360100 (the records' home), 360700 and 360900 (desks elsewhere). Records
# first, then changes in the order the hub merges them, one change set each.
records = [("P0", punishment("P0", "2026-06-01", "serious")), ("P1", punishment("P1", "2026-05-10", "general")),
           ("P2", punishment("P2", "2026-05-10", "general")), ("l1", LIST_ENTRY)]
sequences = {"360100": len(records), "360700": 0, "360900": 0}
changes = []


def change(node, operation, record, payload, expect, reason="", decision=""):
    """A change; for operations 1-3 `payload` is the record itself (the reader writes its canonical form)."""
    sequences[node] += 1
    item = "serious-untrustworthy-list" if record == "l1" else "administrative-punishment"
    entry = {"node": node, "sequence": sequences[node], "operation": operation, "item": item, "recordId": record,
             "reason": reason, "decisionDocument": decision, "expect": expect}
    if operation in ("create", "correct", "revoke"):
        entry["record"] = payload
        entry["payload"] = ""
    else:
        entry["payload"] = canonical(payload)
    changes.append(entry)
    return "%s-%d" % (node, sequences[node])


objection = change("360700", "objection-label", "P1", {"event": "filed", "applicant": "甲", "grounds": "金额有误"}, "effective")
change("360900", "objection-label", "P1", {"event": "filed", "applicant": "甲", "grounds": "同一申请人"}, "refused:duplicate-application")
second = change("360900", "objection-label", "P1", {"event": "filed", "applicant": "乙", "grounds": "另一申请人"}, "effective")
change("360700", "objection-label", "P1", {"event": "paused", "case": objection, "cause": "testing"}, "refused:not-home")
change("360100", "objection-label", "P1", {"event": "paused", "case": objection, "cause": "testing"}, "effective")
change("360100", "objection-outcome", "P1", {"event": "upheld", "case": objection}, "refused:case-state", reason="成立")
change("360100", "objection-label", "P1", {"event": "paused", "case": objection, "cause": "evaluation"}, "refused:case-state")
change("360100", "objection-label", "P1", {"event": "resumed", "case": objection}, "effective")
change("360100", "objection-label", "P1", {"event": "checks", "case": objection, "units": [CHECKER]}, "effective")
change("360100", "objection-label", "P1", {"event": "checks", "case": objection, "units": [CHECKER]}, "refused:case-state")
# A unit of another province answered through a Jiangxi node: outside every node's area (rights.md §2).
change("360700", "objection-label", "P1", {"event": "checked", "case": objection, "unit": "91350100M000100Y43", "finding": "无"}, "refused:not-in-area")
change("360700", "objection-label", "P1", {"event": "checked", "case": objection, "unit": CHECKER, "finding": "核查属实"}, "effective")
change("360700", "objection-label", "P1", {"event": "checked", "case": objection, "unit": CHECKER, "finding": "再次"}, "refused:not-checker")
change("360100", "objection-outcome", "P1", {"event": "rejected", "case": objection}, "effective", reason="记载无误")
change("360100", "objection-outcome", "P1", {"event": "upheld", "case": objection}, "refused:case-closed", reason="改判")
change("360100", "objection-label", "P2", {"event": "resumed", "case": objection}, "refused:unknown-case")
# Upholding an objection is correcting the record (Article 41): first the correction, then the outcome.
change("360100", "objection-outcome", "P1", {"event": "upheld", "case": second}, "refused:correction-required", reason="成立")
corrected = punishment("P1", "2026-05-10", "general")
corrected["fields"]["CF_NR"] = "罚款1000元"
change("360100", "correct", "P1", corrected, "effective", reason="异议成立，更正处罚内容", decision="洪市监更〔2026〕1号")
change("360100", "objection-outcome", "P1", {"event": "upheld", "case": second}, "effective", reason="异议成立，已更正")
change("360700", "objection-label", "P9", {"event": "filed", "applicant": "甲", "grounds": "乙"}, "refused:unknown-record")
change("360700", "restoration", "P0", {"event": "applied", "applicant": "赣江商贸", "statement": "已整改"}, "refused:too-early")
assert change("360700", "restoration", "l1", {"event": "applied", "applicant": "赣江商贸", "statement": "已整改"}, "effective") == "360700-8"
restoration = change("360900", "restoration", "P1", {"event": "applied", "applicant": "赣江商贸", "statement": "已整改"}, "effective")
change("360700", "restoration", "P1", {"event": "applied", "applicant": "赣江商贸", "statement": "再次申请"}, "refused:duplicate-application")
change("360100", "restoration", "P1", {"event": "granted", "case": second}, "refused:unknown-case", reason="x")
change("360900", "restoration", "P1", {"event": "granted", "case": restoration}, "refused:not-home", reason="x")
change("360100", "restoration", "P1", {"event": "granted", "case": restoration}, "effective", reason="符合修复条件")
change("360700", "restoration", "P1", {"event": "applied", "applicant": "丙", "statement": "已整改"}, "refused:already-restored")
change("360100", "list-removal", "P2", {"event": "removed"}, "refused:not-listed", reason="x", decision="y")
removal = change("360100", "list-removal", "l1", {"event": "removed"}, "effective", reason="已履行义务", decision="洪市监移〔2026〕1号")
change("360100", "list-removal", "l1", {"event": "removed"}, "refused:already-removed", reason="x", decision="y")

out = {
    "description": "Rights documents (Protocol/rights.md §2) and a merge scenario (§3). Every record and change is "
                   "accepted on `today` (10:00 China time); records are created by their home node in the order "
                   "listed, as its sequences 1, 2, 3 ...; each change is pushed in a change set of its own. `cases` "
                   "gives each case's state once every change is merged.",
    "today": "2026-11-20",
    "documents": documents,
    "scenarios": [{
        "name": "objections, restorations and a list removal, with every refusal of §3",
        "home": "360100",
        "provider": PROVIDER,
        "records": [r for _, r in records],
        "changes": changes,
        "cases": {objection: "rejected", second: "upheld", "360700-8": "open", restoration: "granted", removal: "removed"},
    }],
}
print(json.dumps(out, ensure_ascii=False, indent=1))
