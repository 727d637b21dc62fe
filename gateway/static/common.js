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
    not_their_flag: "所选异常记录不属于该成员，请刷新后重新选择",
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
    // a member sheet's rows (issue 21: each with its row, column and value)
    member_name_missing: "缺少姓名",
    not_mobile: "“{value}”不是手机号码：应为以1开头的11位数字（这里有{digits}位数字）",
    unknown_category: "类别“{value}”无法识别：应为党员、厅级或非党员",
    unknown_participation: "参加方式“{value}”无法识别：应为必参或自愿",
    unknown_role: "角色“{value}”无法识别：应为管理员、组织管理员或系统管理员（或留空）",
    unit_missing: "缺少单位：请填写单位，或在导入时选择“无‘单位’列时归入”的单位",
    branch_outside_unit: "支部“{value}”不在单位“{unit}”之内",
    place_outside_scope: "“{value}”不在您的管理范围内",
    phone_repeated: "手机号码{value}与第{other}行重复",
    phone_in_unit: "手机号码{value}已是“{unit}”的成员{name}：如需调动，请在“成员”页编辑其单位",
    phone_elsewhere: "手机号码{value}已是其他单位的成员",
    admin_outside_unit: "“{value}”不属于任何单位：单位管理员必须属于某个单位（第4条）",
    second_admin: "“{unit}”已在第{other}行指定了管理员（第4条：每个单位只有一名管理员）",
    ambiguous_place: "名为“{value}”的组织有{n}个：请改填其编码",
    unknown_unit: "找不到单位“{value}”：请核对名称，或先导入组织架构",
    unknown_branch: "找不到支部“{value}”：请核对名称，或先导入组织架构",
    unit_left_without_admin: "“{unit}”将没有管理员：请在其中一人的备注中写“管理员”（第4条）；该单位{n}行正确的数据均未导入",
    role_outside_organisation: "组织管理员须属于某个组织，此行所在的位置不在任何组织之内",
    self_grant: "不能给自己授予管理角色，请由其他管理员办理",
    admin_beyond_scope: "手机号码{value}属于管理范围比您大的管理员：只有其上级管理员才能修改",
    // a question sheet's rows
    level_not_number: "关卡应为整数（这里是“{value}”）",
    unknown_level: "本活动没有第{value}关",
    unknown_type: "题型“{value}”无法识别：应为单选、多选或判断",
    stem_missing: "缺少题干",
    judge_with_options: "判断题不设选项（这里有“{value}”）",
    bad_judge_answer: "判断题的答案应为“对”或“错”（这里是“{value}”）",
    option_count: "这道题有{n}个选项：每题应有2至6个选项",
    bad_answer_letters: "答案应为选项字母，如 A 或 AC（这里是“{value}”）",
    answer_beyond_options: "答案{value}中有这道题没有的选项（本题只有{n}个选项）",
    single_many_answers: "单选题只能有一个答案（这里是{value}）",
    unknown_difficulty: "难度“{value}”无法识别：应为易、中或难",
    unknown_question_id: "本活动没有编号为“{value}”的题目：新题请把编号留空",
    duplicate_question: "与第{other}行是同一道题",
    // a campaign sheet's rows
    no_levels: "表中没有关卡：每行一关",
    campaign_field_differs: "与第{other}行不同（每个活动只有一个值）：“{value}”",
    field_missing: "必填",
    text_too_long: "最多{n}个字",
    bad_year: "年度应为如2027的四位数字（这里是“{value}”）",
    unknown_time_zone: "未知时区（应如 Asia/Shanghai）",
    bad_date: "日期应写作如2027-03-12（这里是“{value}”）",
    ends_before_start: "结束日期须在首个闯关日之后",
    starts_outside_year: "首个闯关日不在{year}年",
    bad_level_number: "关卡序号应为1、2、3…（这里是“{value}”）",
    level_repeated: "第{value}关已在第{other}行",
    levels_not_contiguous: "关卡须从1起连续编号：缺第{missing}关",
    opens_outside_campaign: "开放日期须在活动期内（首个闯关日至结束日期）",
    opens_out_of_order: "关卡须按顺序开放：不能早于上一关",
    time_limit_range: "限时为300至1200秒（第10条：5至20分钟）",
    draw_range: "抽题数为1至100（这里是“{value}”）",
    bad_mix: "难度配比看不懂：请写作“易10 中8 难2”",
    mix_total: "难度配比的合计须等于抽题数",
    // refusals of the admin page's actions
    month_not_over: "该月尚未截止：截止后才能结算（到时系统也会自动结算）",
    earlier_month_open: "请先结算之前的月份",
    month_passes_pending: "截止前提交的成绩尚未全部到达排行榜，请稍后再结算",
    month_still_open: "该月尚未结算：结算前显示的是实时榜单",
    not_a_campaign_month: "该月份不在本次活动期内",
    not_an_admin: "此账号不是管理员",
    not_a_unit: "请选择一个单位（不是组织或支部）",
    not_in_unit: "此人不是该单位的成员",
    member_inactive_here: "该成员已停用",
    not_an_organisation: "组织管理员只能设在组织上",
    required_by_category: "省总工会机关党员须必参（第1条），不能改为自愿",
    already_disqualified: "该成员已被取消资格",
    not_disqualified: "该成员未被取消资格",
    last_system_admin: "不能撤销最后一名系统管理员",
    nothing_to_change: "没有要修改的内容",
    unknown_fields: "有无法识别的字段",
    question_retired: "该题已停用",
    bank_short: "题库题目不足，无法抽题：请补充题目",
    level_opened: "该关已开放，成员正在答题：确需修改请确认（将记入操作日志）",
    same_campaign: "请从另一个活动复制题库",
    no_annual_results: "年度结果将在活动最后一个月结算后生成",
    ambiguous_node: "有多个同名的组织：请改用其编号",
    bad_phone: "手机号码应为以1开头的11位数字",
    system_admin_exists: "已有系统管理员",
    database_unavailable: "服务暂时无法访问数据库，请稍后再试",
    broker_unavailable: "服务之间暂时无法通信，请稍后再试",
    overloaded: "当前访问人数过多，请稍后再试",
    month_open: "该月尚未结算",
    campaign_not_running: "活动不在进行期间，不能发送提醒短信",
    month_end_not_yet: "月底提醒只能在本月最后3天发送",
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
    not_their_flag: "Those flags are not this member's; reload and choose again",
    campaign_not_running: "The campaign is not running: reminders are sent during it only",
    month_end_not_yet: "The month-end reminder is sent in the month's last 3 days only",
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
    month_open: "The month is not closed yet: its list follows its close",
    award_held: "The award is held: its winner's flags must be cleared before it is paid",
    award_not_payable: "Only a payable award can be marked paid",
    question_voided: "The question is already voided",
    no_campaign: "No campaign is running: play starts once the organisers publish this year's campaign",
    campaign_still_running: "Another campaign is still running: publish this one after it has ended",
    campaign_published: "The campaign is already published",
    campaign_no_levels: "The campaign has no levels yet: import its sheet",
    campaign_year_exists: "That year has its campaign: download its sheet, edit it and import it again",
    no_organisation: "There is no organisation yet: import the organisation sheet first",
    level_opened: "The level is open and members are playing it: confirm to change it anyway (logged)",
    time_limit_range: "The time limit is 300 to 1200 seconds (R10: 5 to 20 minutes)",
    bad_mix: "The mix cannot be read: write easy=10 medium=8 hard=2",
    mix_total: "The mix must add up to the draw",
    opens_outside_campaign: "A level opens between the campaign's first and last day",
    opens_out_of_order: "Levels open in order: a level cannot open before the one below it",
    same_campaign: "Copy a bank from another campaign",
    unknown_time_zone: "Unknown time zone (e.g. Asia/Shanghai)",
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

  // How long to wait before the i-th retry: the answer's Retry-After (seconds, at most 30),
  // else a pause that grows with each try.
  pause(retryAfter, i) {
    const s = Number(retryAfter);
    return s > 0 ? Math.min(s, 30) * 1000 : 1000 * (i + 1);
  },

  // An error's words for the reader: Chinese by reason or code; English the server's message.
  errorText(err) {
    const words = ERRORS[this.lang] || {};
    const pick = (err.reason && words[err.reason]) ||
                 (this.lang === "en" ? err.message : null) ||
                 words[err.code] || err.message || ERRORS.zh.internal;
    // a row error's words name its value and what else it carries (another row, a count)
    const vars = Object.assign({}, err.params || {},
      { value: err.value ?? "", wait: this.waitText(err.retryAfter) });
    return pick.replace(/\{(\w+)\}/g, (all, key) => (key in vars ? String(vars[key]) : all));
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
        await new Promise((ok) => setTimeout(ok, this.pause(r.headers.get("Retry-After"), i)));
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
