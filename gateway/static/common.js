"use strict";
// Shared by the member page (/) and the admin page (/admin): the API client, the login
// token, and errors said in the reader's language (by the error's `reason`, else its `code`;
// the server's English message is kept for English readers and for cases we have no words for).

const ERRORS = {
  zh: {
    // reasons (a stable word for the case, sent by the server)
    invalid_code: "验证码不正确或已过期，请重新获取",
    code_recently_sent: "验证码刚刚发送过，请{wait}后再试",
    codes_per_day: "今天获取验证码次数过多，请明天再试",
    address_limit: "操作过于频繁，请{wait}后再试",
    member_limit: "操作过于频繁，请{wait}后再试",
    starts_per_hour: "一小时内开始答题次数已达上限，请{wait}后再试",
    wait_after_failure: "请稍作休息，{wait}后可再次挑战",
    attempt_starting: "正在开始答题，请稍候再试",
    not_current_level: "请先完成当前关卡",
    run_complete: "本轮关卡已全部通过，可从第1关重新开始",
    level_not_open: "该关卡尚未开放",
    campaign_ended: "本次活动已结束",
    attempt_open: "请先完成正在进行的答题",
    restart_not_allowed: "需先通过目前已开放的全部关卡，才能从第1关重新开始",
    run_just_started: "新一轮刚刚开始",
    attempt_closed: "本次答题已结束，答案不能再修改",
    answers_off_paper: "答案与本次试卷的题目或选项不符，请刷新页面后重试",
    may_not_play: "您的账号暂不能参加答题，请联系本单位管理员",
    sheet_unreadable: "文件无法读取：请上传 CSV（UTF-8 或 GBK）、XLSX 或 JSON 表格",
    sheet_no_known_column: "表格第一行没有可识别的列名，请使用模板中的列名",
    sheet_too_many_rows: "表格行数超过上限（20000行），请分批导入",
    sheet_cell_too_long: "表格中有单元格内容过长（超过32767个字符）",
    sheet_too_deep: "JSON 文件层级嵌套过深，不是题库表格",
    sheet_unpacks_too_large: "XLSX 文件解压后过大，请另存为普通表格后再导入",
    member_inactive: "您的账号已停用，不能继续答题，请联系本单位管理员",
    member_disqualified: "您已被取消参赛资格，不能继续答题",
    outside_scope: "该成员或单位不在您的管理范围内",
    self_edit: "不能修改本人的角色、参加方式或资格，请由其他管理员办理",
    self_reinstatement: "不能为本人恢复资格，请由上级管理员办理",
    self_review: "不能审核本人的异常记录，请由其他管理员办理",
    decided_above_you: "该处理由上级管理员作出，您无权撤销",
    may_not_grant_role: "您无权授予或撤销该管理角色",
    roles_suspended: "您已被取消资格，恢复资格前管理权限暂停",
    required_needs_org_admin: "必参人员的参加方式变更或停用，须由组织管理员或系统管理员办理",
    queue_not_found: "消息队列不存在：请对方系统先创建并绑定队列，再重放事件",
    queue_is_ours: "这是本平台自己的消息队列：事件只能重放到其他单位系统的队列",
    unknown_event_type: "该服务不发布这种事件类型",
    // R4 outside imports; R10's draw; the organisation sheet's rows (issue 18, 19)
    unit_without_admin: "该单位还没有管理员：请先指定管理员（或导入其成员名单并标明管理员），再调入成员",
    admin_would_leave: "此人是另一单位的管理员：请先为该单位另行指定管理员",
    draw_count_not_r10: "第10条规定每次抽取20题：如确需改为其他题数，请确认后再保存",
    name_missing: "缺少名称",
    bad_name: "名称过长或含有“/”",
    unknown_kind: "类型应为“组织”“单位”或“支部”",
    bad_code: "编码只能由字母、数字和 . _ - 组成，最多36个字符",
    unknown_parent: "找不到上级：请填写上级的编码、完整路径或名称，并把上级放在其下级的前面",
    ambiguous_parent: "有多个同名的上级：请填写上级的编码或完整路径（如 省总工会/省产业工会）",
    bad_parent: "该类型不能放在这个上级之下（支部下不能再设，单位下不能再设单位或组织）",
    duplicate_row: "与前面某行是同一个组织，请删去重复的行",
    root_in_sheet: "最上层（全系统）不必写进表格",
    name_taken: "同一上级下已有同名的组织（编码不同）",
    kind_in_use: "该组织下已有成员或下级，不能更改类型",
    cycle: "不能把组织调到它自己的下级之下",
    month_not_closed: "该月尚未结算，不能发放奖励",
    award_held: "该奖励待审核：获奖人的异常记录复核通过后才能发放",
    award_not_payable: "该奖励不是待发放状态，不能标记为已发放",
    question_voided: "该题已作废",
    // campaigns as data, several over the years (issue 19)
    no_campaign: "目前没有进行中的活动：组织方发布本年度的活动后即可开始闯关，请留意通知",
    campaign_still_running: "另一个活动仍在进行：须等它结束后，才能发布新的活动",
    campaign_published: "该活动已经发布",
    campaign_no_levels: "该活动还没有关卡：请先导入活动表",
    campaign_year_exists: "该年度已有活动：请下载其表格修改后重新导入",
    no_organisation: "还没有组织架构：请先导入组织架构表，再新建活动",
    // codes (the kind of error)
    bad_input: "填写的内容有误，请检查",
    unauthorized: "请重新登录",
    forbidden: "没有权限进行此操作",
    not_found: "未找到相关内容",
    conflict: "当前状态下无法进行此操作",
    too_large: "文件或内容过大",
    rate_limited: "操作过于频繁，请{wait}后再试",
    service_unavailable: "服务暂时不可用，请稍后再试",
    server_busy: "当前访问人数过多，请稍后再试",
    request_timeout: "网络过慢，请求超时，请重试",
    unstorable_text: "输入中含有无法保存的字符，请删除后重试",
    internal: "系统出现问题，请稍后再试",
    network: "网络连接失败，请检查网络后重试",
  },
  en: {
    invalid_code: "The code is wrong or has expired; ask for a new one",
    server_busy: "Too many people are connected just now; try again shortly",
    request_timeout: "The connection was too slow; try again",
    member_inactive: "Your account is no longer active: you may not play; ask your unit's administrator",
    member_disqualified: "You are disqualified (R20): you may not play any more",
    outside_scope: "That member or unit is outside your part of the organisation",
    self_edit: "Your own roles, participation and standing are changed by another administrator",
    self_reinstatement: "Nobody reinstates themself; ask an administrator above you",
    self_review: "Nobody reviews a flag on their own play; ask another administrator",
    decided_above_you: "An administrator above you decided this; you cannot undo it",
    may_not_grant_role: "You may not grant or remove that role",
    roles_suspended: "You are disqualified: your administrator roles are suspended until reinstated",
    required_needs_org_admin: "Only an organisation or system administrator changes a required member's participation or deactivates them",
    network: "No connection; check your network and try again",
    sheet_unreadable: "The file cannot be read: upload a CSV (UTF-8 or GBK), XLSX or JSON sheet",
    sheet_no_known_column: "The sheet's first row names none of the template's columns",
    sheet_too_many_rows: "The sheet has more than 20,000 rows; import it in parts",
    sheet_cell_too_long: "A cell of the sheet is longer than 32,767 characters",
    sheet_too_deep: "The JSON file is nested too deeply to be a sheet",
    sheet_unpacks_too_large: "The XLSX file unpacks too large; save it again as an ordinary sheet",
    queue_not_found: "No such queue: the subscriber declares and binds its queue before a replay",
    queue_is_ours: "That is one of the platform's own queues: events are replayed to another agency's queue only",
    unknown_event_type: "That service publishes no event of this type",
    unit_without_admin: "That unit has no administrator yet: appoint one (or import its member sheet with one marked) before moving members in",
    admin_would_leave: "That member administers another unit: appoint another administrator there first",
    draw_count_not_r10: "R10 says 20 questions a paper: confirm to draw another number",
    month_not_closed: "The month is not closed yet: its awards cannot be granted",
    award_held: "The award is held: its winner's flags must be cleared before it is paid",
    award_not_payable: "Only a payable award can be marked paid",
    question_voided: "The question is already voided",
    no_campaign: "No campaign is running: play starts once the organisers publish this year's campaign",
    campaign_still_running: "Another campaign is still running: publish this one after it has ended",
    campaign_published: "The campaign is already published",
    campaign_no_levels: "The campaign has no levels yet: import its sheet",
    campaign_year_exists: "That year has its campaign: download its sheet, edit it and import it again",
    no_organisation: "There is no organisation yet: import the organisation sheet first",
  },
};

const Challenge = {
  token: localStorage.getItem("token"),
  lang: localStorage.getItem("lang") || "zh",
  onUnauthorized: () => {},
  onRetry: () => {},

  setToken(token) {
    this.token = token;
    if (token) localStorage.setItem("token", token); else localStorage.removeItem("token");
  },

  // A wait (Retry-After, seconds) as a person says it: seconds under two minutes, then
  // minutes (rounded up), then hours and minutes.
  waitText(seconds) {
    const s = Math.max(1, Math.ceil(Number(seconds) || 0));
    if (!seconds) return this.lang === "en" ? "a moment" : "片刻";
    const zh = this.lang !== "en";
    if (s < 120) return zh ? `${s}秒` : `${s} s`;
    const minutes = Math.ceil(s / 60);
    if (minutes < 120) return zh ? `${minutes}分钟` : `${minutes} min`;
    const h = Math.floor(minutes / 60), m = minutes % 60;
    return zh ? `${h}小时${m ? m + "分钟" : ""}` : `${h} h${m ? " " + m + " min" : ""}`;
  },

  // An error's words for the reader: Chinese by reason or code; English the server's message.
  errorText(err) {
    const words = ERRORS[this.lang] || {};
    const wait = this.waitText(err.retryAfter);
    const pick = (err.reason && words[err.reason]) ||
                 (this.lang === "en" ? err.message : null) ||
                 words[err.code] || err.message || ERRORS.zh.internal;
    return pick.replace("{wait}", wait);
  },

  // One API call. Network failures and 503s (a service, its database or the broker briefly
  // away) are retried `retries` times with a growing pause; only calls that are safe to repeat
  // pass `retries` (starting resumes the open attempt; a second submit answers the first
  // result). Any other answer is never retried. Errors carry status, code, reason, fields.
  async api(method, path, body, { retries = 0, form = null, raw = false } = {}) {
    for (let i = 0; ; i++) {
      let r;
      try {
        const headers = this.token ? { Authorization: `Bearer ${this.token}` } : {};
        if (!form) headers["Content-Type"] = "application/json";
        r = await fetch(`/api/v1${path}`, {
          method, headers, body: form || (body ? JSON.stringify(body) : undefined) });
      } catch (e) {
        if (i >= retries) {
          throw Object.assign(new Error("network"), { code: "network", status: 0 });
        }
        this.onRetry(i);
        await new Promise((ok) => setTimeout(ok, 1000 * (i + 1)));
        continue;
      }
      if (r.status === 503 && i < retries) {
        this.onRetry(i);
        await new Promise((ok) => setTimeout(ok, 1000 * (i + 1)));
        continue;
      }
      if (raw && r.ok) return r;
      const data = await r.json().catch(() => ({}));
      if (r.status === 401 && path !== "/auth/token") this.onUnauthorized();
      if (!r.ok) {
        const e = data.error || {};
        throw Object.assign(new Error(e.message || r.statusText), {
          status: r.status, code: e.code || "internal", reason: e.reason,
          fields: e.fields || {}, retryAfter: r.headers.get("Retry-After") });
      }
      return data;
    }
  },

  // A file download that needs the token (an <a href> cannot send it).
  async download(path, fallbackName) {
    const r = await this.api("GET", path, null, { raw: true });
    const disposition = r.headers.get("Content-Disposition") || "";
    const match = /filename="?([^";]+)"?/.exec(disposition);
    const url = URL.createObjectURL(await r.blob());
    const a = document.createElement("a");
    a.href = url; a.download = match ? match[1] : fallbackName;
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  },
};

// The two login forms both pages have: #code-form (#phone) asks for a code, #token-form
// (#code) exchanges it for a token; `done` runs once logged in.
Challenge.wireLogin = ({ sent, oops, clear, done }) => {
  const $ = (id) => document.getElementById(id);
  $("code-form").onsubmit = async (ev) => {
    ev.preventDefault(); clear();
    try { await Challenge.api("POST", "/auth/code", { phone: $("phone").value.trim() });
          sent(); $("token-form").hidden = false; $("code").focus(); }
    catch (e) { oops(e); }
  };
  $("token-form").onsubmit = async (ev) => {
    ev.preventDefault(); clear();
    try {
      const r = await Challenge.api("POST", "/auth/token",
        { phone: $("phone").value.trim(), code: $("code").value.trim() });
      Challenge.setToken(r.token); done();
    } catch (e) { oops(e); }
  };
};

// 5′07″ from milliseconds
Challenge.fmt = (ms) => {
  const s = Math.round((ms || 0) / 1000);
  return `${Math.floor(s / 60)}′${String(s % 60).padStart(2, "0")}″`;
};
