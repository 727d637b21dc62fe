// member-outputs.js: loaded after the page's own script (which starts the page on DOMContentLoaded);
// the members' "本月获奖名单" (issue 23 item 5): the last closed month's champion and places 1-30
// as the organisers publish them (unit, name partly hidden), and after the campaign the annual
// awards. Shown inside "my awards" (the page's <div id="winners">), loaded when that part shows.
"use strict";
(() => {
  Object.assign(T.zh, {
    winnersTitle: "本月获奖名单", winnersOf: "{m}获奖名单", winnersNone: "每月结算后，在这里公布当月获奖名单。",
    winnersEmpty: "该月暂无可公布的获奖人员。", winnersChampion: "月度冠军", winnersPlace: "名次",
    winnersName: "姓名", winnersUnit: "单位", winnersMonth: "月份", winnersAnnual: "年度表彰",
    winnersAnnualChampion: "年度个人冠军", winnersUnits: "优秀直属单位", winnersBranches: "优秀机关支部",
    winnersNoOne: "无", winnersAway: "暂时无法显示获奖名单，稍后再试",
  });
  Object.assign(T.en, {
    winnersTitle: "This month's winners", winnersOf: "Winners of {m}", winnersNone: "After each month closes, its winners are published here.",
    winnersEmpty: "No winners to publish for this month.", winnersChampion: "Monthly champion", winnersPlace: "Place",
    winnersName: "Name", winnersUnit: "Unit", winnersMonth: "Month", winnersAnnual: "Annual awards",
    winnersAnnualChampion: "Annual champion", winnersUnits: "Excellent units", winnersBranches: "Excellent organ branches",
    winnersNoOne: "None", winnersAway: "The winners cannot be shown just now; please try again later",
  });
  // the page's policy takes styles carrying its nonce: ours carries the page's own
  const style = document.createElement("style");
  style.nonce = document.querySelector("style[nonce]")?.nonce || "";
  style.textContent = `
    #winners table { width: 100%; border-collapse: collapse; font-size: 14px; }
    #winners th, #winners td { text-align: left; padding: 5px 4px; border-bottom: 1px solid #eee; }
    #winners td.num, #winners th.num { text-align: right; font-variant-numeric: tabular-nums; width: 3.5em; }
    #winners .champion { font-size: 16px; font-weight: 600; margin: 6px 0; }
    #winners select { padding: 6px; font-size: 15px; }`;
  document.head.append(style);

  const make = (tag, text, attrs = {}) => {
    const node = document.createElement(tag);
    if (text != null) node.textContent = text;
    Object.entries(attrs).forEach(([k, v]) => node.setAttribute(k, v));
    return node;
  };
  // the page keeps a place for it inside "my awards" (<div id="winners">), shown with it
  let section = document.getElementById("winners");
  if (!section) { section = make("div", null, { id: "winners" }); document.getElementById("awards").append(section); }
  section.setAttribute("aria-labelledby", "winners-h");
  const mine = { month: "", loadedAt: 0, list: undefined };

  function render() {
    const list = mine.list;
    const heading = make("h3", list && list.month ? t("winnersOf", { m: list.month }) : t("winnersTitle"), { id: "winners-h" });
    if (list === undefined) return;
    if (!list) { section.replaceChildren(heading, make("p", t("winnersAway"), { class: "muted" })); return; }
    if (!list.month) { section.replaceChildren(heading, make("p", t("winnersNone"), { class: "muted" })); return; }
    const parts = [heading];
    if (list.months.length > 1) {
      const label = make("label", t("winnersMonth"), { for: "winners-month" }), pick = make("select", null, { id: "winners-month" });
      list.months.forEach((m) => pick.append(make("option", m, { value: m })));
      pick.value = list.month;
      pick.onchange = () => { mine.month = pick.value; load(true); };
      parts.push(label, pick);
    }
    if (list.champion) parts.push(make("p", `${t("winnersChampion")}：${list.champion.name} · ${list.champion.unit_name || ""}`, { class: "champion" }));
    if (list.places.length) {
      const table = make("table"), head = make("tr");
      [["winnersPlace", "num"], ["winnersName", ""], ["winnersUnit", ""]].forEach(([k, cls]) => head.append(make("th", t(k), cls ? { class: cls } : {})));
      const thead = make("thead"); thead.append(head); table.append(thead);
      const body = make("tbody");
      for (const w of list.places) {
        const tr = make("tr");
        tr.append(make("td", String(w.place), { class: "num" }), make("td", w.name), make("td", w.unit_name || ""));
        body.append(tr);
      }
      table.append(body); parts.push(table);
    } else parts.push(make("p", t("winnersEmpty"), { class: "muted" }));
    if (list.annual) {
      const a = list.annual;
      parts.push(make("h3", t("winnersAnnual")),
        make("p", `${t("winnersAnnualChampion")}：${a.champion ? `${a.champion.name} · ${a.champion.unit_name || ""}` : t("winnersNoOne")}`),
        make("p", `${t("winnersUnits")}：${a.units.join("、") || t("winnersNoOne")}`),
        make("p", `${t("winnersBranches")}：${a.branches.join("、") || t("winnersNoOne")}`));
    }
    section.replaceChildren(...parts);
  }
  async function load(force) {
    if (!force && Date.now() - mine.loadedAt < 60_000 && mine.list) { render(); return; }
    try {
      mine.list = await Challenge.api("GET", mine.month ? `/winners?month=${mine.month}` : "/winners");
      mine.loadedAt = Date.now();
    } catch (e) { if (e.status === 401) return; mine.list = null; }
    render();
  }

  // loaded whenever the page shows "my awards" (at most once a minute), said again in the
  // other language when the page switches
  const awards = document.getElementById("awards");
  new MutationObserver(() => { if (!awards.hidden) load(false); })
    .observe(awards, { attributes: true, attributeFilter: ["hidden"] });
  new MutationObserver(() => { if (mine.list !== undefined && !awards.hidden) render(); })
    .observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
})();
