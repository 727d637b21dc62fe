"""Demo data for the embedded platform: a small tree, ~120 members, the 2018 campaign, and
30 demo questions per level. Loaded through the services' own RPCs, so it takes the same
paths as real data (and their events reach every replica): the campaign is 2018's template
sheet imported and published, as `challenge campaign template/import/publish` do."""
from __future__ import annotations

import base64
import random

SYSTEM_ADMIN_PHONE = "13800000000"

TREE = [
    {"id": "system", "parent_id": None, "kind": "system", "name": "全系统"},
    {"id": "federation", "parent_id": "system", "kind": "organisation", "name": "省总工会"},
    {"id": "unit-education", "parent_id": "federation", "kind": "unit", "name": "省教科文卫工会"},
    {"id": "unit-industry", "parent_id": "federation", "kind": "unit", "name": "省产业工会"},
    {"id": "branch-1", "parent_id": "federation", "kind": "branch", "name": "机关第一党支部"},
    {"id": "branch-2", "parent_id": "federation", "kind": "branch", "name": "机关第二党支部"},
]
PLACES = ["unit-education", "unit-industry", "branch-1", "branch-2"]
CATEGORIES = ["party_member", "department_level", "non_party"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建"
DEPARTMENTS = ["办公室", "组织部", "宣传部", "财务部", "权益保障部"]


def member_rows(per_category: int = 40, seed: int = 2018) -> list[dict]:
    rng = random.Random(seed)
    rows = [{
        "name": "系统管理员", "department": "办公室", "phone": SYSTEM_ADMIN_PHONE,
        "unit": "federation", "category": "party_member", "remarks": "",
        "role": "system_admin",
    }]
    number = 1
    for category in CATEGORIES:
        for i in range(per_category):
            place = PLACES[i % len(PLACES)]
            rows.append({
                "name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(2)),
                "department": rng.choice(DEPARTMENTS),
                "phone": f"1380000{number:04d}",
                "unit": place,
                "category": category,
                "participation": "required" if category == "party_member" else "voluntary",
                # R4: one administrator per unit, marked in the remarks column
                "remarks": "管理员" if category == "party_member" and i < 2
                and place.startswith("unit-") else "",
            })
            number += 1
    return rows


def logins() -> list[tuple[str, str]]:
    """Who to log in as, (what they are, phone): a plain member, each unit's administrator
    (R4: marked in the remarks), the system administrator."""
    rows = member_rows()
    names = {node["id"]: node["name"] for node in TREE}
    member = next(r for r in rows if r.get("role") is None and not r["remarks"])
    found = [("member", member["phone"])]
    found += [(f"unit admin of {names[r['unit']]}", r["phone"])
              for r in rows if r["remarks"] == "管理员"]
    return found + [("system admin", SYSTEM_ADMIN_PHONE)]


def _sheet_b64(rows: list[dict], headers: list[str]) -> str:
    """Rows as the XLSX an organiser would upload, base64 as the import RPCs take it."""
    from kernel import sheets

    data, _ = sheets.write_rows(rows, headers, "xlsx")
    return base64.b64encode(data).decode()


def load_organisation(rpc) -> None:
    """The tree as an organisation sheet (上级, 名称, 类型, 编码; the 编码 are the demo's ids),
    imported as `challenge org import` does (the root is the platform's own)."""
    kinds = {"organisation": "组织", "unit": "单位", "branch": "支部"}
    rows = [{"上级": "" if node["parent_id"] == "system" else node["parent_id"],
             "名称": node["name"], "类型": kinds[node["kind"]], "编码": node["id"]}
            for node in TREE if node["kind"] != "system"]
    report = rpc.roster.import_org_sheet(_sheet_b64(rows, ["上级", "名称", "类型", "编码"]),
                                         "organisation.xlsx")
    if report["errors"]:
        raise RuntimeError(f"demo organisation rejected: {report['errors'][:3]}")


def load_campaign(rpc, year: int, organisation_id: str) -> dict:
    """A year's campaign as an organiser makes it: the template sheet (`challenge campaign
    template YEAR`, the seed's pattern) imported as a sheet, then published."""
    from services.question_bank.campaign_sheet import HEADERS, template_rows

    report = rpc.question_bank.import_campaign_sheet(
        None, _sheet_b64(template_rows(year), list(HEADERS.values())), f"campaign-{year}.xlsx",
        organisation_id=organisation_id)
    if report["errors"]:
        raise RuntimeError(f"demo campaign rejected: {report['errors'][:3]}")
    campaign = report["campaign"]
    if campaign["published_at"] is None:
        campaign = rpc.question_bank.publish_campaign(None, campaign["campaign_id"])
    return campaign


def load(rpc) -> dict:
    """Load the demo through `rpc` (a ClusterRpcProxy); returns what to print."""
    from services.question_bank.demo import demo_questions

    load_organisation(rpc)
    members = member_rows()
    report = rpc.roster.import_members(members)
    if report["errors"]:
        raise RuntimeError(f"demo members rejected: {report['errors'][:3]}")
    campaign = load_campaign(rpc, 2018, "federation")
    for level in campaign["levels"]:
        rows = demo_questions(level["number"], count=30, seed=level["number"])
        report = rpc.question_bank.import_questions(campaign["campaign_id"], rows)
        if report["errors"]:
            raise RuntimeError(f"demo questions rejected: {report['errors'][:3]}")
    return {
        "members": len(members),
        "campaign": campaign,
        "sample_member": members[1],
        "unit_admin": next(m for m in members if m.get("remarks") == "管理员"),
        "system_admin": members[0],
    }
