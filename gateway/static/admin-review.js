// admin-review.js: loaded after the page's own script (which starts the page on DOMContentLoaded);
// it adds three tabs (issue 23 items 3, 4, 6): a member's attempts for review (from a flag, a
// member or an award row: window.openReview(memberId)), the R20 notice (printable, XLSX), and
// notices and SMS reminders to members; and the disqualification form asking for the evidence
// (window.disqualifyWithEvidence(member)).
"use strict";
(() => {
  TABS.splice(TABS.indexOf("flags") + 1, 0, "review", "r20");
  TABS.splice(TABS.indexOf("audit"), 0, "notices");
  Object.assign(T.zh, {
    tab_review: "答题审查", tab_r20: "取消资格通报", tab_notices: "通知与短信",
    reviewTitle: "答题审查", reviewPick: "从“答题复核”“成员”或获奖名单中选择成员，或在此搜索：",
    reviewSearch: "姓名或手机号", reviewFind: "查找", reviewOpen: "查看答题", reviewNone: "该成员还没有答题记录。",
    reviewNoKeys: "答案、正确答案和对错仅活动（系统/组织）管理员可见：单位管理员可能也在答同一关，看到他人的作答即等于看到答案。",
    reviewAttempt: "第{level}关 · {status} · 答对 {correct}/{total}", reviewStarted: "开始", reviewSubmitted: "提交",
    reviewDuration: "用时", reviewAddress: "来源地址", reviewDeadline: "截止", reviewAnswered: "已作答 {n} 题",
    reviewAuto: "到时自动提交", reviewChosen: "所选", reviewKey: "正确答案", reviewWrong: "答错",
    reviewRight: "答对", reviewVoided: "已作废（计为答对）", reviewFlagsTitle: "该成员的全部异常记录",
    reviewNoFlags: "没有异常记录。", reviewBack: "换一个成员", reviewFlagged: "异常记录 #{ids}",
    st_open: "进行中", st_passed: "通过", st_failed: "未通过", st_voided: "已作废",
    outcome_open: "待复核", disqualifyTitle: "取消资格", dqReason: "原因（将记入通报）",
    dqEvidence: "依据（事实与证据，将记入通报）", dqFlags: "所依据的异常记录", dqNoFlags: "该成员没有异常记录。",
    dqSubmit: "确定取消资格", cancel: "取消", dqAskReason: "请填写原因",
    r20Title: "取消资格通报", r20Help: "按期间列出被取消资格（或恢复资格）的成员：单位、日期、原因、依据、决定人、被撤销的奖励及金额、恢复情况。按您的管理范围显示。",
    r20From: "起", r20Until: "止", r20Show: "查询", r20Name: "姓名", r20Unit: "单位", r20Date: "取消资格日期",
    r20Reason: "原因", r20Evidence: "依据", r20Decider: "决定人", r20Awards: "撤销的奖励", r20Amount: "撤销金额（元）",
    r20Reinstated: "恢复资格", r20Totals: "合计：取消资格 {n} 人，恢复 {r} 人，撤销奖金 {cny} 元",
    r20None: "该期间没有取消资格的成员。", r20Period: "期间：{from} 至 {until}", r20All: "全部",
    printIt: "打印", xlsx: "下载 XLSX", r20Printed: "打印时间：{at}",
    noticesTitle: "会员通知", noticesHelp: "通知显示在会员页首页，在起止时间内对所选范围的成员可见。关卡开放、月底截止前 3 天的提示由系统自动显示，无需发布。",
    nTitle: "标题", nBody: "内容", nAudience: "范围", nFrom: "开始时间", nUntil: "结束时间", nPost: "发布通知",
    nEveryone: "全体成员", nPoster: "发布人", nState: "状态", nLive: "显示中", nFuture: "未开始", nOver: "已结束",
    nWithdrawn: "已撤下", nWithdraw: "撤下", nList: "已发布的通知", nNone: "还没有通知。", nPosted: "已发布",
    smsTitle: "短信提醒", smsHelp: "向本范围内应参加、尚未参加的成员发送短信（每人每 24 小时最多 {cap} 条）。先预览人数，再发送。",
    smsKind: "提醒内容", smsLevel: "关卡", kind_level_open: "第 N 关已开放（未参加该关的成员）",
    kind_month_end: "本月即将截止（本月未答题的成员）", smsPreview: "预览人数", smsSend: "发送",
    smsWould: "将发送给 {n} 人；应参加而未参加 {e} 人，其中 {c} 人今日已达上限。短信内容：{text}",
    smsSent: "已发送 {n} 条短信。", smsConfirm: "确定向 {n} 人发送短信？", smsLog: "发送记录",
    smsWhen: "时间", smsWho: "发送人", smsText: "内容", smsCount: "人数", smsNone: "还没有发送记录。",
    smsBankOnly: "短信提醒由活动（系统/组织）管理员发送。",
    act_notice_posted: "发布通知", act_notice_withdrawn: "撤下通知", act_reminders_sent: "发送短信提醒",
  });
  Object.assign(T.en, {
    tab_review: "Attempt review", tab_r20: "R20 notice", tab_notices: "Notices & SMS",
    reviewTitle: "Attempt review", reviewPick: "Choose a member from Review, Members or an award row, or search here:",
    reviewSearch: "Name or phone", reviewFind: "Find", reviewOpen: "Attempts", reviewNone: "This member has no attempts yet.",
    reviewNoKeys: "The answers given, the key and which were wrong are for the campaign's (system/organisation) administrators only: a unit's administrator may play the same level.",
    reviewAttempt: "Level {level} · {status} · {correct}/{total} right", reviewStarted: "Started", reviewSubmitted: "Submitted",
    reviewDuration: "Time", reviewAddress: "Client address", reviewDeadline: "Deadline", reviewAnswered: "{n} answered",
    reviewAuto: "submitted at its deadline", reviewChosen: "chosen", reviewKey: "key", reviewWrong: "wrong",
    reviewRight: "right", reviewVoided: "voided (right for all)", reviewFlagsTitle: "All of the member's flags",
    reviewNoFlags: "No flags.", reviewBack: "Another member", reviewFlagged: "flag #{ids}",
    st_open: "open", st_passed: "passed", st_failed: "failed", st_voided: "voided",
    outcome_open: "open", disqualifyTitle: "Disqualify", dqReason: "Reason (goes into the notice)",
    dqEvidence: "Evidence (facts, goes into the notice)", dqFlags: "Flags it rests on", dqNoFlags: "The member has no flags.",
    dqSubmit: "Disqualify", cancel: "Cancel", dqAskReason: "Give a reason",
    r20Title: "R20 notice", r20Help: "Members disqualified (or reinstated) in the period: unit, date, reason, evidence, who decided, the awards revoked and their amounts, reinstatements. Your part of the organisation.",
    r20From: "From", r20Until: "Until", r20Show: "Show", r20Name: "Name", r20Unit: "Unit", r20Date: "Disqualified on",
    r20Reason: "Reason", r20Evidence: "Evidence", r20Decider: "Decided by", r20Awards: "Awards revoked", r20Amount: "Revoked (CNY)",
    r20Reinstated: "Reinstated", r20Totals: "Total: {n} disqualified, {r} reinstated, {cny} CNY revoked",
    r20None: "Nobody was disqualified in the period.", r20Period: "Period: {from} to {until}", r20All: "all",
    printIt: "Print", xlsx: "Download XLSX", r20Printed: "Printed {at}",
    noticesTitle: "Notices to members", noticesHelp: "A notice shows on the member page's home to the chosen part of the organisation between its from and until. Levels opening and the month's last 3 days are announced automatically.",
    nTitle: "Title", nBody: "Text", nAudience: "Audience", nFrom: "From", nUntil: "Until", nPost: "Post notice",
    nEveryone: "Everyone", nPoster: "Posted by", nState: "State", nLive: "showing", nFuture: "to come", nOver: "over",
    nWithdrawn: "withdrawn", nWithdraw: "Withdraw", nList: "Notices posted", nNone: "No notices yet.", nPosted: "Posted",
    smsTitle: "SMS reminders", smsHelp: "An SMS to the expected members of your part who have not played (at most {cap} per member in 24 hours). Preview the count first, then send.",
    smsKind: "Reminder", smsLevel: "Level", kind_level_open: "Level N is open (who has not played it)",
    kind_month_end: "The month ends soon (who has not played this month)", smsPreview: "Preview", smsSend: "Send",
    smsWould: "{n} would receive it; {e} expected members have not played, {c} of them at today's cap. Text: {text}",
    smsSent: "{n} SMS sent.", smsConfirm: "Send the SMS to {n} members?", smsLog: "Sent",
    smsWhen: "When", smsWho: "By", smsText: "Text", smsCount: "Members", smsNone: "Nothing sent yet.",
    smsBankOnly: "SMS reminders are sent by the campaign's (system/organisation) administrators.",
    act_notice_posted: "Notice posted", act_notice_withdrawn: "Notice withdrawn", act_reminders_sent: "SMS reminders sent",
  });

  const style = document.createElement("style");
  style.nonce = document.querySelector("style[nonce]")?.nonce || "";
  style.textContent = `
    .review-tools { display: flex; gap: 8px; flex-wrap: wrap; align-items: flex-end; margin: 8px 0; }
    .review-tools input, .review-tools select, .review-form input, .review-form textarea, .review-form select {
      padding: 8px; font-size: 15px; border: 1px solid #bbb; border-radius: 6px; max-width: 100%; box-sizing: border-box; }
    .review-form { display: grid; gap: 8px; max-width: 640px; }
    .review-form textarea { min-height: 5em; width: 100%; }
    .review-form label.flag { display: flex; gap: 8px; align-items: flex-start; }
    .review-form label.flag input { width: auto; flex: none; margin: 3px 0 0; padding: 0; }
    details.attempt { border: 1px solid var(--line, #ddd); border-radius: 8px; padding: 8px 10px; margin: 8px 0; }
    details.attempt summary { cursor: pointer; font-weight: 600; }
    details.attempt.flagged { border-color: #e65100; background: #fff8e1; }
    .attempt-facts { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 14px; color: #444; margin: 6px 0; }
    ol.paper { padding-left: 1.4em; margin: 6px 0; }
    ol.paper > li { margin: 8px 0; }
    ol.paper > li.wrong { background: #fdecea; border-radius: 6px; padding: 4px; }
    ol.paper ul { list-style: none; padding-left: 0.6em; margin: 4px 0; }
    ol.paper li .tag { font-size: 12px; border-radius: 4px; padding: 0 4px; margin-left: 6px; }
    .tag.key { background: #e8f5e9; color: #1b5e20; } .tag.chosen { background: #e3f2fd; color: #0d47a1; }
    .tag.wrong { background: #fdecea; color: #b71c1c; }
    dialog.dq { max-width: 520px; width: calc(100% - 32px); }
    button.link { border: 0; background: none; color: #0d47a1; text-decoration: underline; padding: 2px 0; font-size: inherit; text-align: left; }
    .print-only-r20 { display: none; }
    @media print { .print-only-r20 { display: block; } #tab-r20 .review-tools { display: none !important; } }`;
  document.head.append(style);
  const section = (name) => {
    const node = el("section", null, { id: `tab-${name}`, role: "tabpanel" });
    node.hidden = true; return node;
  };
  document.getElementById("tab-flags").after(section("review"), section("r20"));
  document.getElementById("tab-audit").before(section("notices"));

  const tool = (label, onclick, cls) => button(label, () => onclick().catch(oops), cls);
  const cny = (n) => (n || 0).toLocaleString("zh-CN");
  const seconds = (ms) => ms == null ? "—" : Challenge.fmt(ms);
  const day = (iso) => iso ? when(iso).split(/[ ,]/)[0] : "";

  // -- item 4: a member's attempts ------------------------------------------------------------
  window.openReview = (memberId) => { state.reviewMember = memberId; openTab("review"); };

  LOADERS.review = async () => {
    const box = $("tab-review");
    if (!state.reviewMember) return pickMember(box);
    const r = await api("GET", `/admin/members/${encodeURIComponent(state.reviewMember)}/review`);
    const m = r.member;
    const tools = el("div", null, { class: "review-tools" });
    tools.append(button(t("reviewBack"), () => { state.reviewMember = null; openTab("review"); }));
    if (!m.disqualified) tools.append(button(t("disqualify"), () => window.disqualifyWithEvidence(m, r.flags), "primary"));
    const head = el("p", `${m.name} · ${m.phone_masked} · ${m.unit_name}${m.department ? ` · ${m.department}` : ""}`
      + (m.disqualified ? ` · ${t("disqualified")}` : ""), { class: m.disqualified ? "error" : "" });
    const parts = [el("h2", t("reviewTitle")), head, tools];
    if (!r.with_keys) parts.push(el("p", t("reviewNoKeys"), { class: "muted" }));
    parts.push(el("h3", t("reviewFlagsTitle")));
    if (r.flags.length) {
      const list = el("ul");
      for (const f of r.flags) list.append(el("li", `#${f.flag_id} · ${when(f.flagged_at)} · ${t("level")} ${f.level} · `
        + `${t(f.reason)} · ${flagDetail(f)} · ${t(`outcome_${f.outcome || "open"}`)}${f.review_note ? `：${f.review_note}` : ""}`));
      parts.push(list);
    } else parts.push(el("p", t("reviewNoFlags"), { class: "muted" }));
    if (!r.attempts.length) parts.push(el("p", t("reviewNone"), { class: "muted" }));
    r.attempts.forEach((a, i) => parts.push(attemptBox(a, a.with_keys ?? r.with_keys, i === 0 || a.flag_ids.length > 0)));
    box.replaceChildren(...parts);
  };

  function attemptBox(a, withKeys, open) {
    const box = el("details", null, { class: `attempt${a.flag_ids.length ? " flagged" : ""}` });
    box.open = open;
    const status = t(`st_${a.status}`);
    const sum = el("summary", `${t("reviewAttempt", { level: a.level, status, correct: a.correct ?? "—", total: a.total })}`
      + ` · ${when(a.started_at)}${a.flag_ids.length ? ` · ${t("reviewFlagged", { ids: a.flag_ids.join("、#") })}` : ""}`);
    const facts = el("div", null, { class: "attempt-facts" });
    for (const text of [`${t("reviewStarted")}：${when(a.started_at)}`,
      `${t("reviewSubmitted")}：${when(a.submitted_at)}${a.auto_submitted ? `（${t("reviewAuto")}）` : ""}`,
      `${t("reviewDuration")}：${seconds(a.duration_ms)}（${t("reviewDeadline")} ${when(a.deadline)}）`,
      `${t("reviewAddress")}：${a.client_address || "—"}`, t("reviewAnswered", { n: a.answered })]) {
      facts.append(el("span", text));
    }
    const paper = el("ol", null, { class: "paper" });
    for (const q of a.questions) {
      const item = el("li", null, { class: withKeys && q.wrong ? "wrong" : "" });
      item.append(el("span", q.stem));
      if (q.voided) item.append(el("span", t("reviewVoided"), { class: "tag key" }));
      if (withKeys && q.wrong != null) item.append(el("span", t(q.wrong ? "reviewWrong" : "reviewRight"), { class: `tag ${q.wrong ? "wrong" : "key"}` }));
      const options = el("ul");
      for (const o of q.options) {
        const line = el("li", `${o.key}. ${o.text}`);
        if (withKeys && (q.answer || []).includes(o.key)) line.append(el("span", t("reviewChosen"), { class: "tag chosen" }));
        if (withKeys && (q.key || []).includes(o.key)) line.append(el("span", t("reviewKey"), { class: "tag key" }));
        options.append(line);
      }
      item.append(options); paper.append(item);
    }
    box.append(sum, facts, paper);
    return box;
  }

  function pickMember(box) {
    const form = el("form", null, { class: "review-tools" });
    const input = el("input", null, { id: "review-q", type: "search", placeholder: t("reviewSearch"), "aria-label": t("reviewSearch") });
    const submit = el("button", t("reviewFind"), { type: "submit", class: "primary" });
    const list = el("div");
    form.append(input, submit);
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      try {
        const page = await api("GET", `/admin/members?limit=20&query=${encodeURIComponent(input.value.trim())}`);
        const rows = page.items.map((m) => [m.name, m.phone_masked, m.unit_name, button(t("reviewOpen"), () => window.openReview(m.member_id))]);
        const table = el("table"), body = el("tbody"); table.append(body); fill(body, rows);
        const wrap = el("div", null, { class: "scroll" }); wrap.append(table); list.replaceChildren(wrap);
      } catch (e) { oops(e); }
    };
    box.replaceChildren(el("h2", t("reviewTitle")), el("p", t("reviewPick"), { class: "muted" }), form, list);
  }

  // -- item 3: the disqualification asks for its evidence --------------------------------------
  window.disqualifyWithEvidence = async (m, flags) => {
    if (!flags) flags = (await api("GET", `/admin/members/${encodeURIComponent(m.member_id)}/review`)).flags;
    const dialog = el("dialog", null, { class: "dq" });
    const form = el("form", null, { class: "review-form", method: "dialog" });
    const reason = el("input", null, { id: "dq-reason", maxlength: "500", required: "" });
    const evidence = el("textarea", null, { id: "dq-evidence", maxlength: "2000" });
    const error = el("p", null, { class: "error" });
    form.append(el("h2", `${t("disqualifyTitle")} · ${m.name}`), el("label", t("dqReason"), { for: "dq-reason" }), reason,
      el("label", t("dqEvidence"), { for: "dq-evidence" }), evidence, el("strong", t("dqFlags")));
    const boxes = [];
    if (!flags.length) form.append(el("p", t("dqNoFlags"), { class: "muted" }));
    for (const f of flags) {
      const label = el("label", null, { class: "flag" }), box = el("input", null, { type: "checkbox", value: String(f.flag_id) });
      box.checked = !f.outcome || f.outcome === "upheld";
      label.append(box, ` #${f.flag_id} · ${when(f.flagged_at)} · ${t("level")} ${f.level} · ${t(f.reason)} · ${flagDetail(f)}`);
      boxes.push(box); form.append(label);
    }
    const row = el("div", null, { class: "row" });
    const cancel = el("button", t("cancel"), { type: "button", class: "secondary" });
    const go = el("button", t("dqSubmit"), { type: "submit", class: "primary" });
    cancel.onclick = () => dialog.close();
    row.append(cancel, go); form.append(error, row); dialog.append(form);
    document.body.append(dialog);
    dialog.addEventListener("close", () => dialog.remove());
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      if (reason.value.trim().length < 2) { error.textContent = t("dqAskReason"); return; }
      try {
        await api("POST", `/admin/members/${encodeURIComponent(m.member_id)}/disqualify`, {
          reason: reason.value.trim(), evidence: evidence.value.trim() || null,
          flag_ids: boxes.filter((b) => b.checked).map((b) => Number(b.value)) });
        dialog.close(); flash(t("saved"), true); openTab(state.tab);
      } catch (e) { error.textContent = Challenge.errorText(e); }
    };
    dialog.showModal();
  };

  // -- item 3: the R20 notice ---------------------------------------------------------------
  state.r20 = { from: "", until: "" };
  const r20Path = (path) => {
    const q = new URLSearchParams();
    if (state.r20.from) q.set("from", state.r20.from);
    if (state.r20.until) q.set("until", state.r20.until);
    if (state.campaignId) q.set("campaign_id", state.campaignId);
    return q.toString() ? `${path}?${q}` : path;
  };
  LOADERS.r20 = async () => {
    const box = $("tab-r20");
    const n = await api("GET", r20Path("/admin/r20-notice"));
    const tools = el("form", null, { class: "review-tools no-print" });
    const dates = [["r20-from", "r20From", "from"], ["r20-until", "r20Until", "until"]].map(([id, label, key]) => {
      const wrap = el("div"), input = el("input", null, { id, type: "date" });
      input.value = state.r20[key]; input.onchange = () => { state.r20[key] = input.value; };
      wrap.append(el("label", t(label), { for: id }), input); return wrap;
    });
    tools.append(...dates, el("button", t("r20Show"), { type: "submit", class: "primary" }),
      tool(t("xlsx"), () => Challenge.download(r20Path("/admin/r20-notice.xlsx"), "r20-notice.xlsx")),
      button(t("printIt"), () => window.print()));
    tools.onsubmit = (ev) => { ev.preventDefault(); LOADERS.r20().catch(oops); };
    const rows = n.items.map((c) => Object.assign([c.name, c.unit_name, day(c.decided_at), c.reason,
      [c.evidence || "", c.flag_ids.length ? `（${c.flag_ids.map((f) => `#${f}`).join("、")}）` : ""].join(""),
      c.decided_by_name, c.revoked.map((a) => `${a.period} ${t(a.kind)} ${a.amount_cny ? `${a.amount_cny}元` : ""}`).join("；") || "—",
      { text: cny(c.revoked_cny), cls: "num" },
      c.reinstated_at ? `${day(c.reinstated_at)} ${c.reinstated_by_name || ""}：${c.reinstate_reason || ""}` : ""],
      { cls: c.reinstated_at ? "" : "bad" }));
    const table = el("table"), thead = el("thead"), headRow = el("tr"), body = el("tbody");
    for (const h of ["r20Name", "r20Unit", "r20Date", "r20Reason", "r20Evidence", "r20Decider", "r20Awards", "r20Amount", "r20Reinstated"]) {
      headRow.append(el("th", t(h)));
    }
    thead.append(headRow); table.append(thead, body); fill(body, rows);
    const wrap = el("div", null, { class: "scroll" }); wrap.append(table);
    box.replaceChildren(el("h2", t("r20Title")),
      el("p", t("r20Period", { from: state.r20.from || t("r20All"), until: state.r20.until || t("r20All") }), { class: "muted" }),
      el("p", t("r20Help"), { class: "muted no-print" }), tools,
      n.items.length ? wrap : el("p", t("r20None"), { class: "muted" }),
      el("p", t("r20Totals", { n: n.disqualified, r: n.reinstated, cny: cny(n.revoked_cny) }), { class: "strong" }),
      el("p", t("r20Printed", { at: when(new Date().toISOString()) }), { class: "muted print-only-r20" }));
  };

  // -- item 6: notices and SMS reminders --------------------------------------------------------
  const localInput = (id, date) => {
    const input = el("input", null, { id, type: "datetime-local" });
    const pad = (v) => String(v).padStart(2, "0");
    input.value = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
    return input;
  };
  const field = (label, input) => { const w = el("div"); w.append(el("label", label, { for: input.id }), input); return w; };
  LOADERS.notices = async () => {
    const box = $("tab-notices");
    const { items } = await api("GET", "/admin/notices");
    // the platform's clock, not the browser's (a demo's clock runs in its own year)
    const now = new Date((await api("GET", "/campaign").catch(() => ({}))).server_now || Date.now());
    state.serverNow = now;
    const rows = items.map((n) => {
      const stateText = n.withdrawn_at ? t("nWithdrawn") : new Date(n.starts_at) > now ? t("nFuture")
        : new Date(n.ends_at) <= now ? t("nOver") : t("nLive");
      return [n.title, n.audience_name || t("nEveryone"), `${when(n.starts_at)} – ${when(n.ends_at)}`,
        n.created_by_name || "", stateText,
        n.withdrawn_at || new Date(n.ends_at) <= now ? "" : tool(t("nWithdraw"), async () => {
          await api("POST", `/admin/notices/${n.notice_id}/withdraw`, {}); await LOADERS.notices(); })];
    });
    const list = el("table"), body = el("tbody"), head = el("tr");
    for (const h of ["nTitle", "nAudience", "nFrom", "nPoster", "nState", "actions"]) head.append(el("th", t(h)));
    const thead = el("thead"); thead.append(head); list.append(thead, body); fill(body, rows);
    const listWrap = el("div", null, { class: "scroll" }); listWrap.append(list);

    const form = el("form", null, { class: "review-form" });
    const title = el("input", null, { id: "n-title", maxlength: "100", required: "" });
    const text = el("textarea", null, { id: "n-body", maxlength: "2000", required: "" });
    const audience = el("select", null, { id: "n-audience" });
    if (!state.actor.scopes) audience.append(el("option", t("nEveryone"), { value: "" }));
    for (const node of state.nodes.filter((x) => x.kind !== "system")) {
      audience.append(el("option", node.name, { value: node.id }));
    }
    const from = localInput("n-from", now), until = localInput("n-until", new Date(now.getTime() + 7 * 86400000));
    form.append(field(t("nTitle"), title), field(t("nBody"), text), field(t("nAudience"), audience),
      field(t("nFrom"), from), field(t("nUntil"), until), el("button", t("nPost"), { type: "submit", class: "primary" }));
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      try {
        await api("POST", "/admin/notices", { title: title.value.trim(), body: text.value.trim(),
          audience_id: audience.value || null, starts_at: new Date(from.value).toISOString(),
          ends_at: new Date(until.value).toISOString() });
        flash(t("nPosted"), true); await LOADERS.notices();
      } catch (e) { oops(e); }
    };
    const parts = [el("h2", t("noticesTitle")), el("p", t("noticesHelp"), { class: "muted" }), form,
      el("h3", t("nList")), items.length ? listWrap : el("p", t("nNone"), { class: "muted" }),
      el("h2", t("smsTitle"))];
    parts.push(...(state.bankAdmin ? await reminders() : [el("p", t("smsBankOnly"), { class: "muted" })]));
    box.replaceChildren(...parts);
  };

  async function reminders() {
    const log = await api("GET", "/admin/reminders?limit=20");
    const form = el("form", null, { class: "review-tools" });
    const kind = el("select", null, { id: "sms-kind" });
    for (const k of ["level_open", "month_end"]) kind.append(el("option", t(`kind_${k}`), { value: k }));
    const level = el("input", null, { id: "sms-level", type: "number", min: "1", max: "99" });
    const opened = (state.campaign?.levels || []).filter((lv) => new Date(lv.opens_at) <= (state.serverNow || new Date()));
    level.value = opened.length ? opened[opened.length - 1].number : 1;
    const preview = el("p", null, { class: "muted", id: "sms-preview" });
    const send = el("button", t("smsSend"), { type: "button", class: "primary" });
    send.disabled = true;
    kind.onchange = () => { level.disabled = kind.value !== "level_open"; send.disabled = true; preview.textContent = ""; };
    level.onchange = () => { send.disabled = true; preview.textContent = ""; };
    const body = (dryRun) => ({ kind: kind.value, level: kind.value === "level_open" ? Number(level.value) : null, dry_run: dryRun });
    let count = 0;
    form.append(field(t("smsKind"), kind), field(t("smsLevel"), level),
      el("button", t("smsPreview"), { type: "submit", class: "secondary" }), send);
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      try {
        const r = await api("POST", "/admin/reminders", body(true));
        count = r.recipients;
        preview.textContent = t("smsWould", { n: r.recipients, e: r.expected_not_played, c: r.capped, text: r.text });
        send.disabled = r.recipients === 0;
      } catch (e) { oops(e); }
    };
    send.onclick = async () => {
      if (send.disabled || !confirm(t("smsConfirm", { n: count }))) return;
      send.disabled = true;  // one send per preview: a second click never sends it again
      try {
        const r = await api("POST", "/admin/reminders", body(false));
        flash(t("smsSent", { n: r.recipients }), true); await LOADERS.notices();
      } catch (e) { oops(e); }
    };
    const table = el("table"), tbody = el("tbody"), head = el("tr");
    for (const h of ["smsWhen", "smsWho", "smsText", "smsCount"]) head.append(el("th", t(h)));
    const thead = el("thead"); thead.append(head); table.append(thead, tbody);
    fill(tbody, log.items.map((b) => [when(b.sent_at), b.sent_by_name || "", b.text, { text: b.recipients, cls: "num" }]));
    const wrap = el("div", null, { class: "scroll" }); wrap.append(table);
    return [el("p", t("smsHelp", { cap: log.per_day }), { class: "muted" }), form, preview, el("h3", t("smsLog")),
      log.items.length ? wrap : el("p", t("smsNone"), { class: "muted" })];
  }
})();
