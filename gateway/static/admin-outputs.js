// admin-outputs.js: loaded after the page's own script (which starts the page on DOMContentLoaded);
// it adds three tabs (issue 23 items 1, 2, 5): the live contest's shortlist (R6/R17), the units'
// reports (R19) and the winners' list (表彰名单), each printable (print styles below) and as XLSX.
"use strict";
(() => {
  TABS.splice(TABS.indexOf("participation") + 1, 0, "shortlist", "reports", "winners");
  Object.assign(T.zh, {
    tab_shortlist: "现场赛名单", tab_reports: "单位报告", tab_winners: "获奖名单",
    shortlistTitle: "现场赛入围名单", shortlistHelp: "按累计成绩（闯关数多者在前，同关数用时少者在前）取前 N 名符合获奖资格的成员；已取消资格、按获奖资格设置不能获奖的成员不列入。活动结束前为暂定名单，最后一个月结算后为最终名单。",
    liveStandings: "当前排名（暂定）", liveNow: "实时排名（打印时间见页脚）", monthEnd: "{m} 月末", provisional: "暂定名单", final: "最终名单",
    asOf: "截至 {at}", sizeLabel: "入围人数", saveSize: "保存人数", branch: "支部", department: "部门",
    phone: "手机号", levelsN: "关数", time: "用时", lastPass: "最后通关", flagMark: "待复核",
    flagNote: "有 {n} 条异常记录待复核", printIt: "打印", xlsx: "下载 XLSX", noneYet: "暂无符合条件的成员。",
    place: "名次", name: "姓名", unit: "单位", mark: "标记", fullPhones: "系统管理员可见完整手机号。",
    reportsTitle: "单位参与情况报告", reportsHelp: "每个直属单位、机关支部：应参加人数、已参加人数、参与率、成绩与综合分（年度评选规则：参与率、成绩各占一半），逐月（各月末）与截至目前；以及尚未参加答题的应参加人员，便于督促。",
    kindCol: "类型", unitKind: "直属单位", branchKind: "机关支部", expected: "应参加", participants: "已参加",
    rate: "参与率", results: "成绩", score: "综合分", rankCol: "排名", notPlayed: "未参加",
    nowRow: "截至目前", allXlsx: "下载全部（每单位一页，XLSX）", oneXlsx: "下载本单位报告（XLSX）",
    notPlayedTitle: "尚未参加人员（{n} 人）", everyonePlayed: "应参加人员均已参加。", where: "所在单位/支部",
    noReports: "没有可查看的单位或支部。",
    winnersTitle: "月度获奖名单", winnersHelp: "月度结算后公布：月度冠军与第1—30名（单位、姓名隐去部分）。待审核、已取消资格或不符合获奖资格的成员不列入。活动结束后另列年度表彰。",
    monthChampion: "月度冠军", amount: "奖金（元）", noWinners: "尚无已结算的月份。", noPlaces: "该月暂无可公布的获奖人员。",
    annualTitle: "年度表彰", annualChampion: "年度个人冠军", excellentUnits: "优秀直属单位",
    excellentBranches: "优秀机关支部", none: "无", printedAt: "打印时间：{at}",
  });
  Object.assign(T.en, {
    tab_shortlist: "Contest shortlist", tab_reports: "Unit reports", tab_winners: "Winners",
    shortlistTitle: "Live contest shortlist", shortlistHelp: "The first N eligible members by the cumulative result (most levels, then least time); the disqualified and those the award settings make ineligible are left out. Provisional until the campaign's last month is closed, final after.",
    liveStandings: "Current standings (provisional)", liveNow: "Live standings (printed at the foot)", monthEnd: "End of {m}", provisional: "Provisional", final: "Final",
    asOf: "as of {at}", sizeLabel: "Members on the list", saveSize: "Save", branch: "Branch", department: "Department",
    phone: "Phone", levelsN: "Levels", time: "Time", lastPass: "Last pass", flagMark: "Under review",
    flagNote: "{n} flag(s) under review", printIt: "Print", xlsx: "Download XLSX", noneYet: "Nobody qualifies yet.",
    place: "Place", name: "Name", unit: "Unit", mark: "Mark", fullPhones: "System administrators see full phone numbers.",
    reportsTitle: "Participation by unit", reportsHelp: "For each unit and organ branch: members expected, playing, the participation rate, results and the score (the annual rule: half participation, half results), at each month's end and now; and the expected members who have not played yet, to chase.",
    kindCol: "Kind", unitKind: "Unit", branchKind: "Organ branch", expected: "Expected", participants: "Playing",
    rate: "Rate", results: "Results", score: "Score", rankCol: "Rank", notPlayed: "Not played",
    nowRow: "Now", allXlsx: "Download all (a sheet per unit, XLSX)", oneXlsx: "Download this unit (XLSX)",
    notPlayedTitle: "Not played yet ({n})", everyonePlayed: "Every expected member has played.", where: "Unit/branch",
    noReports: "No unit or branch to show.",
    winnersTitle: "Monthly winners", winnersHelp: "Published after a month closes: the monthly champion and places 1-30 (unit, name partly hidden). Members under review, disqualified or ineligible are not listed. After the campaign, the annual awards too.",
    monthChampion: "Monthly champion", amount: "Prize (CNY)", noWinners: "No month is closed yet.", noPlaces: "No winners to publish for this month.",
    annualTitle: "Annual awards", annualChampion: "Annual champion", excellentUnits: "Excellent units",
    excellentBranches: "Excellent organ branches", none: "None", printedAt: "Printed {at}",
  });

  // the sections, before the audit log's; print styles: only the open tab's printable part
  // the page's policy takes styles carrying its nonce: ours carries the page's own
  const style = document.createElement("style");
  style.nonce = document.querySelector("style[nonce]")?.nonce || "";
  style.textContent = `
    .outputs-tools { display: flex; gap: 8px; flex-wrap: wrap; align-items: flex-end; margin-bottom: 8px; }
    .outputs-tools input[type=number] { width: 6em; padding: 8px; font-size: 15px; border: 1px solid #bbb; border-radius: 6px; }
    .print-only { display: none; }
    tr.flagged td { background: #fff8e1; }
    .flag-mark { color: #e65100; font-weight: 600; white-space: nowrap; }
    details.org { border-top: 1px solid var(--line); padding: 6px 0; }
    details.org summary { cursor: pointer; font-weight: 600; }
    .winners-champion { font-size: 17px; margin: 6px 0 10px; }
    @media print {
      header, nav.tabs, #campaign-bar, #alerts, #flash, #setup, .no-print, button { display: none !important; }
      body, main, section { background: #fff; border: 0; padding: 0; margin: 0; max-width: none; }
      .print-only { display: block; }
      .scroll { overflow: visible; } .scroll table { min-width: 0; }
      table { font-size: 12px; } th { background: #eee !important; }
      details.org { break-inside: avoid; } details.org > * { display: block; }
      tr { break-inside: avoid; }
    }`;
  document.head.append(style);
  const audit = document.getElementById("tab-audit");
  for (const name of ["shortlist", "reports", "winners"]) {
    const section = el("section", null, { id: `tab-${name}`, role: "tabpanel" });
    section.hidden = true;
    audit.before(section);
  }

  // my routes are not in the page's campaign-reads pattern: the chosen campaign is named here
  const withCampaign = (path, params = {}) => {
    const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v != null && v !== ""));
    if (state.campaignId) query.set("campaign_id", state.campaignId);
    const text = query.toString();
    return text ? `${path}?${text}` : path;
  };
  const tool = (label, onclick) => button(label, () => onclick().catch(oops));
  const printedAt = () => el("p", t("printedAt", { at: when(new Date().toISOString()) }), { class: "muted print-only" });
  function table(headers, rows, numeric = []) {
    const wrap = el("div", null, { class: "scroll" }), tableEl = el("table"), head = el("tr");
    headers.forEach((h, i) => head.append(el("th", h, numeric.includes(i) ? { class: "num" } : {})));
    const thead = el("thead"); thead.append(head); tableEl.append(thead);
    const body = el("tbody"); tableEl.append(body); fill(body, rows); wrap.append(tableEl);
    return wrap;
  }
  async function closedMonths() {
    if (!state.months) state.months = (await api("GET", "/admin/months")).months;
    return state.months.filter((m) => m.closed).map((m) => m.month).reverse();
  }
  function monthPicker(id, months, first, chosen, onchange) {
    const box = el("div"), label = el("label", t("month"), { for: id }), sel = el("select", null, { id });
    if (first) sel.append(el("option", first, { value: "" }));
    months.forEach((m) => sel.append(el("option", t("monthEnd", { m }), { value: m })));
    sel.value = chosen && months.includes(chosen) ? chosen : first ? "" : months[0] || "";
    sel.onchange = () => onchange(sel.value);
    box.append(label, sel); return box;
  }

  // -- 1. the live contest's shortlist (R6, R17) ---------------------------------------------------
  state.shortlistMonth = "";
  LOADERS.shortlist = async () => {
    const box = $("tab-shortlist");
    const months = await closedMonths();
    const page = await api("GET", withCampaign("/admin/shortlist", { month: state.shortlistMonth }));
    const tools = el("div", null, { class: "outputs-tools no-print" });
    tools.append(monthPicker("shortlist-month", months, t("liveStandings"), state.shortlistMonth, (m) => {
      state.shortlistMonth = m; LOADERS.shortlist().catch(oops); }));
    if (state.bankAdmin) {
      const sizeBox = el("div"), size = el("input", null, { id: "shortlist-size", type: "number", min: "1", max: "100" });
      size.value = page.size; sizeBox.append(el("label", t("sizeLabel"), { for: "shortlist-size" }), size);
      tools.append(sizeBox, tool(t("saveSize"), async () => {
        await api("PUT", "/admin/awards-settings", { shortlist_size: Number(size.value) });
        flash(t("saved"), true); await LOADERS.shortlist(); }));
    }
    tools.append(tool(t("xlsx"), () => Challenge.download(withCampaign("/admin/shortlist.xlsx",
      { month: state.shortlistMonth }), "shortlist.xlsx")), button(t("printIt"), () => window.print()));
    const state_ = page.final ? t("final") : t("provisional");
    const when_ = page.month ? `${t("monthEnd", { m: page.month })} · ${t("asOf", { at: when(page.cutoff) })}` : t("liveNow");
    const heading = el("h2", `${t("shortlistTitle")}（${state_}）`);
    const rows = page.items.map((r) => Object.assign([{ text: r.place, cls: "num" }, r.name || "",
      r.unit_name || "", r.branch_name || "", r.department || "", r.phone || "", { text: r.levels, cls: "num" },
      { text: Challenge.fmt(r.total_ms), cls: "num" }, when(r.at),
      r.open_flags ? { text: t("flagNote", { n: r.open_flags }), cls: "flag-mark" } : ""],
      { cls: r.open_flags ? "flagged" : "" }));
    box.replaceChildren(heading, el("p", `${when_} · ${t("sizeLabel")} ${page.size}`, { class: "muted" }),
      el("p", t("shortlistHelp"), { class: "muted no-print" }), tools,
      page.items.length ? table([t("place"), t("name"), t("unit"), t("branch"), t("department"), t("phone"),
        t("levelsN"), t("time"), t("lastPass"), t("mark")], rows, [0, 6, 7]) : el("p", t("noneYet"), { class: "muted" }),
      ...(page.full_phones ? [el("p", t("fullPhones"), { class: "muted no-print" })] : []), printedAt());
  };

  // -- 2. the units' reports (R19) -----------------------------------------------------------------
  const figures = (label, f) => [label, { text: f.expected, cls: "num" }, { text: f.participants, cls: "num" },
    { text: pct(f.participation), cls: "num" }, { text: pct(f.results), cls: "num" },
    { text: f.score.toFixed(4), cls: "num" }, { text: f.rank, cls: "num" }];
  const kindName = (k) => t(k === "unit" ? "unitKind" : "branchKind");
  LOADERS.reports = async () => {
    const box = $("tab-reports");
    const report = await api("GET", withCampaign("/admin/reports/units"));
    const tools = el("div", null, { class: "outputs-tools no-print" });
    tools.append(tool(t("allXlsx"), () => Challenge.download(withCampaign("/admin/reports/units.xlsx"), "unit-report.xlsx")),
      button(t("printIt"), () => window.print()));
    const parts = [el("h2", t("reportsTitle")), el("p", t("reportsHelp"), { class: "muted no-print" }), tools];
    if (!report.organisations.length) { box.replaceChildren(...parts, el("p", t("noReports"), { class: "muted" })); return; }
    parts.push(table([t("orgName"), t("kindCol"), t("expected"), t("participants"), t("rate"), t("results"),
      t("score"), t("rankCol"), t("notPlayed")], report.organisations.map((o) => {
      const [, ...cells] = figures("", o.now);
      return [o.name, kindName(o.kind), ...cells, { text: o.not_played.length, cls: "num" }];
    }), [2, 3, 4, 5, 6, 7, 8]));
    for (const org of report.organisations) {
      const details = el("details", null, { class: "org" });
      if (report.organisations.length === 1) details.open = true;
      details.append(el("summary", `${org.name} · ${kindName(org.kind)} · ${t("rate")} ${pct(org.now.participation)} · ${t("notPlayed")} ${org.not_played.length}`));
      details.append(table([t("month"), t("expected"), t("participants"), t("rate"), t("results"), t("score"), t("rankCol")],
        [...org.months.map((f) => figures(t("monthEnd", { m: f.month }), f)), figures(t("nowRow"), org.now)],
        [1, 2, 3, 4, 5, 6]));
      details.append(tool(t("oneXlsx"), () => Challenge.download(withCampaign("/admin/reports/units.xlsx",
        { unit_id: org.org_unit_id }), "unit-report.xlsx")));
      details.append(el("h3", t("notPlayedTitle", { n: org.not_played.length })));
      details.append(org.not_played.length ? table([t("name"), t("department"), t("where")],
        org.not_played.map((m) => [m.name || "", m.department || "", m.place || ""]))
        : el("p", t("everyonePlayed"), { class: "muted" }));
      parts.push(details);
    }
    box.replaceChildren(...parts, printedAt());
  };

  // -- 5. the winners' list (表彰名单) ------------------------------------------------------------------
  state.winnersMonth = "";
  LOADERS.winners = async () => {
    const box = $("tab-winners");
    const list = await api("GET", withCampaign("/winners", { month: state.winnersMonth }));
    const parts = [el("h2", list.month ? `${list.month} ${t("winnersTitle")}` : t("winnersTitle")),
      el("p", t("winnersHelp"), { class: "muted no-print" })];
    if (!list.month) { box.replaceChildren(...parts, el("p", t("noWinners"), { class: "muted" })); return; }
    const tools = el("div", null, { class: "outputs-tools no-print" });
    tools.append(monthPicker("winners-month", list.months, null, list.month, (m) => {
      state.winnersMonth = m; LOADERS.winners().catch(oops); }),
      tool(t("xlsx"), () => Challenge.download(withCampaign("/admin/winners.xlsx", { month: list.month }), "winners.xlsx")),
      button(t("printIt"), () => window.print()));
    parts.push(tools);
    if (list.champion) parts.push(el("p", `${t("monthChampion")}：${list.champion.name} · ${list.champion.unit_name || ""}`, { class: "winners-champion" }));
    parts.push(list.places.length ? table([t("place"), t("name"), t("unit"), t("levelsN"), t("time"), t("amount")],
      list.places.map((w) => [{ text: w.place, cls: "num" }, w.name, w.unit_name || "", { text: w.levels ?? "", cls: "num" },
        { text: w.total_ms != null ? Challenge.fmt(w.total_ms) : "", cls: "num" }, { text: w.amount_cny ?? "", cls: "num" }]),
      [0, 3, 4, 5]) : el("p", t("noPlaces"), { class: "muted" }));
    if (list.annual) {
      const a = list.annual;
      parts.push(el("h3", t("annualTitle")),
        el("p", `${t("annualChampion")}：${a.champion ? `${a.champion.name} · ${a.champion.unit_name || ""}` : t("none")}`),
        el("p", `${t("excellentUnits")}：${a.units.join("、") || t("none")}`),
        el("p", `${t("excellentBranches")}：${a.branches.join("、") || t("none")}`));
    }
    box.replaceChildren(...parts, printedAt());
  };
})();
