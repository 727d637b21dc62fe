// member-notices.js: loaded after the page's own script (which starts the page on DOMContentLoaded);
// the notices a member is shown (issue 23 item 6): those administrators posted for their part of
// the organisation, and the campaign's own (a level has opened, the month ends in a few days),
// at the top of the home screen, loaded each time it shows (at most once a minute).
"use strict";
(() => {
  Object.assign(T.zh, { noticesTitle: "通知", noticesClose: "收起", noticesUntil: "至 {d}" });
  Object.assign(T.en, { noticesTitle: "Notices", noticesClose: "Hide", noticesUntil: "until {d}" });
  const style = document.createElement("style");
  style.nonce = document.querySelector("style[nonce]")?.nonce || "";
  style.textContent = `
    #notices { margin: 0 0 12px; }
    #notices .notice { border-left: 4px solid #c62828; background: #fff7f5; border-radius: 6px;
      padding: 8px 10px; margin: 6px 0; }
    #notices .notice.auto { border-left-color: #1565c0; background: #f3f8fd; }
    #notices .notice h3 { font-size: 15px; margin: 0 0 4px; }
    #notices .notice p { margin: 0; font-size: 14px; white-space: pre-wrap; overflow-wrap: anywhere; }
    #notices .notice small { color: #666; }`;
  document.head.append(style);

  const home = document.getElementById("home");
  const box = document.createElement("div");
  box.id = "notices"; box.setAttribute("aria-label", "通知"); box.hidden = true;
  home.prepend(box);
  const make = (tag, text, cls) => {
    const node = document.createElement(tag);
    if (text != null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  };
  const day = (iso) => new Date(iso).toLocaleDateString(Challenge.lang === "en" ? "en-GB" : "zh-CN",
    { month: "numeric", day: "numeric", timeZone: "Asia/Shanghai" });
  let loadedAt = 0;
  async function load() {
    if (!Challenge.token || Date.now() - loadedAt < 60000) return;
    loadedAt = Date.now();
    let items;
    try { items = (await Challenge.api("GET", "/notices")).items; }
    catch (e) { loadedAt = 0; return; }  // notices are extra: the page goes on without them
    box.setAttribute("aria-label", t("noticesTitle"));
    box.replaceChildren(...items.map((n) => {
      const card = make("article", null, `notice${n.kind === "notice" ? "" : " auto"}`);
      card.append(make("h3", n.title), make("p", n.body),
        make("small", t("noticesUntil", { d: day(n.ends_at) })));
      return card;
    }));
    box.hidden = !items.length;
  }
  new MutationObserver(() => { if (!home.hidden) load(); })
    .observe(home, { attributes: true, attributeFilter: ["hidden"] });
})();
