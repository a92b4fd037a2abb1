/*
 * Neuvo advisor console: one page, no build step, no dependencies.
 * The contract with the server is docs/console-api.md.
 * Everything a citizen, an advisor or the server wrote is inserted as text (el() below turns
 * strings into text nodes; nothing here assigns innerHTML).
 */
import { LANGUAGES, LOCALES, TIME_ZONE, hasString, pickLanguage, translate } from "./i18n.js";

// =============================================================================================
// Constants and state
// =============================================================================================

const API = "/console/api";
const LANGUAGE_KEY = "neuvo-console:language";
const PING_MS = 25000;
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30000;
const TYPING_SHOWN_MS = 4000;
const TYPING_SEND_MS = 2000;
const AUDIT_PAGE = 100;
const OUTCOMES = ["answered", "referred", "no_reply"];
const ROLES = ["advisor", "editor", "admin"];
const SENDERS = ["citizen", "bot", "advisor", "system"];
const NOTE_KINDS = ["note", "transfer", "system"];

/** Views: who may see them and whether the navigation lists them. */
const VIEWS = {
  queue: { roles: ["advisor", "admin"], nav: true },
  inbox: { roles: ["advisor", "admin"], nav: true },
  users: { roles: ["admin"], nav: true },
  audit: { roles: ["admin"], nav: true },
  content: { roles: ["editor", "admin"], nav: true },
  conversation: { roles: ["advisor", "admin"], nav: false }
};
const NAV_ORDER = ["queue", "inbox", "users", "audit", "content"];

const state = {
  language: initialLanguage(),
  phase: "starting",          // "starting" (asking /me), "login" or "app"
  languageChosen: false,      // chosen on the login page, to be saved after login
  loginMessage: null,         // key of a message shown above the login form
  csrf: null,                 // in memory only
  replyFocusFor: null,        // a conversation just claimed from a list: focus its reply box once loaded
  advisor: null,
  topics: {},
  outcomes: OUTCOMES,
  teams: new Map(),           // every team seen, by id
  myTeamIds: [],
  allTeams: null,             // GET /teams, for the users view
  entries: new Map(),         // queue and inbox entries, by id
  queueOrder: [],
  inboxOrder: [],
  route: null,
  renderSeq: 0,
  pendingFlash: null,
  conversation: null,
  drafts: new Map(),          // conversation id → {reply, note, answer, canned}
  notices: [],
  noticeSeq: 0,
  users: null,
  audit: { advisor: "", conversation: "", entries: [], more: false },
  content: null,
  socket: { ws: null, wanted: false, open: false, connectedOnce: false, delay: RETRY_FIRST_MS, retryTimer: 0, pingTimer: 0 }
};

const dom = {
  skip: document.getElementById("skip-link"),
  product: document.getElementById("product"),
  who: document.getElementById("who"),
  conn: document.getElementById("conn"),
  teamStatus: document.getElementById("team-status"),
  languageLabel: document.getElementById("language-label"),
  languageSelect: document.getElementById("language"),
  passwordButton: document.getElementById("password-button"),
  logoutButton: document.getElementById("logout"),
  nav: document.getElementById("nav"),
  main: document.getElementById("main"),
  flash: document.getElementById("flash"),
  notices: document.getElementById("notices"),
  polite: document.getElementById("announce-polite"),
  assertive: document.getElementById("announce-assertive"),
  view: document.getElementById("view"),
  inboxCount: null
};

// =============================================================================================
// Small helpers: text, elements, formatting
// =============================================================================================

function t(key, params, fallback) { return translate(state.language, key, params, fallback); }

/** A code's translation under prefix, or the code itself when there is none. */
function codeText(prefix, value) {
  if (value === null || value === undefined || value === "") { return t("none"); }
  return hasString(prefix + value) ? t(prefix + value) : String(value);
}
const languageName = (code) => codeText("lang_", code);
const channelName = (code) => codeText("channel_", code);
const reasonName = (code) => codeText("reason_", code);
const roleName = (code) => codeText("role_", code);
const outcomeName = (code) => codeText("outcome_", code);
const actionName = (code) => codeText("action_", code);
const severityName = (code) => codeText("severity_", code);
const redactionName = (code) => codeText("redaction_", code);
const fieldName = (code) => codeText("fieldname_", code);

/**
 * Builds an element. Attribute values are set with setAttribute (never as HTML); "on…" keys
 * with a function add listeners; children that are not nodes become text nodes.
 */
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  let value;
  for (const [name, raw] of Object.entries(attributes || {})) {
    if (raw === null || raw === undefined || raw === false) { continue; }
    if (name.startsWith("on") && typeof raw === "function") {
      node.addEventListener(name.slice(2), raw);
    } else if (name === "value" && tag !== "input") {
      value = raw;
    } else {
      node.setAttribute(name, raw === true ? "" : String(raw));
    }
  }
  appendChildren(node, children);
  if (value !== undefined) { node.value = String(value); }
  return node;
}

function appendChildren(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) { continue; }
    node.append(child instanceof Node ? child : String(child));
  }
}

function button(label, onClick, attributes) {
  return el("button", { type: "button", ...(attributes || {}), onclick: onClick }, label);
}

function visuallyHidden(text) { return el("span", { class: "visually-hidden" }, text); }

let idCounter = 0;
function uid(prefix) { idCounter += 1; return `${prefix}-${idCounter}`; }

function enc(value) { return encodeURIComponent(String(value)); }

/** A class-name-safe token for a code from the server. */
function token(value) { return /^[a-z0-9_]{1,40}$/i.test(String(value)) ? String(value) : "other"; }

const formatters = new Map();
function formatter(name, options, numeric) {
  const key = `${state.language}|${name}`;
  if (!formatters.has(key)) {
    const locale = LOCALES[state.language];
    formatters.set(key, numeric ? new Intl.NumberFormat(locale, options)
      : new Intl.DateTimeFormat(locale, { timeZone: TIME_ZONE, ...options }));
  }
  return formatters.get(key);
}

const dayParts = new Intl.DateTimeFormat("en-GB", { timeZone: TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit" });

function parseTime(iso) {
  if (!iso) { return null; }
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

/** The calendar day in Helsinki, YYYY-MM-DD. */
function helsinkiDay(ms) {
  const parts = {};
  for (const part of dayParts.formatToParts(ms)) { parts[part.type] = part.value; }
  return `${parts.year}-${parts.month}-${parts.day}`;
}

function formatDateTime(iso) {
  const ms = parseTime(iso);
  return ms === null ? t("none") : formatter("datetime", { dateStyle: "short", timeStyle: "short" }).format(ms);
}

/** The clock time, with the date when it is not today. */
function formatTime(iso) {
  const ms = parseTime(iso);
  if (ms === null) { return t("none"); }
  if (helsinkiDay(ms) === helsinkiDay(Date.now())) {
    return formatter("time", { hour: "2-digit", minute: "2-digit" }).format(ms);
  }
  return formatDateTime(iso);
}

/** A calendar date (YYYY-MM-DD, no time zone) in the interface's language. */
function formatDay(ymd) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd || "");
  if (!match) { return ymd ? String(ymd) : t("none"); }
  const key = `${state.language}|day`;
  if (!formatters.has(key)) {
    formatters.set(key, new Intl.DateTimeFormat(LOCALES[state.language],
      { timeZone: "UTC", weekday: "short", day: "numeric", month: "numeric", year: "numeric" }));
  }
  return formatters.get(key).format(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
}

function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) { return t("dur_hm", { h: hours, m: minutes }); }
  if (minutes > 0) { return t("dur_ms", { m: minutes, s: seconds }); }
  return t("dur_s", { s: seconds });
}

function formatApproxWait(seconds) {
  if (seconds < 60) { return t("under_minute"); }
  return t("about_minutes", { n: Math.round(seconds / 60) });
}

function formatPercent(fraction) {
  return formatter("percent", { style: "percent", maximumFractionDigits: 0 }, true).format(fraction);
}

function formatNumber(value) { return formatter("number", {}, true).format(value); }

function timeElement(iso, text) {
  return el("time", { datetime: iso || null }, text === undefined ? formatTime(iso) : text);
}

/** A span that keeps showing the time since iso (see tick). */
function sinceElement(iso) {
  const ms = parseTime(iso);
  const span = el("span", { class: "since" });
  if (ms === null) { span.textContent = t("none"); return span; }
  span.dataset.since = String(ms);
  span.textContent = formatDuration(Date.now() - ms);
  return span;
}

function tick() {
  const now = Date.now();
  document.querySelectorAll("[data-since]").forEach((node) => {
    node.textContent = formatDuration(now - Number(node.dataset.since));
  });
}

function topicName(id) {
  if (!id) { return t("none"); }
  const names = state.topics[id];
  if (names && typeof names === "object") { return names[state.language] || names.fi || names.en || String(id); }
  return String(id);
}

function teamName(id) {
  if (!id) { return t("none"); }
  const team = state.teams.get(id);
  const names = team && team.name;
  if (names && typeof names === "object") { return names[state.language] || names.fi || names.en || String(id); }
  return typeof names === "string" ? names : String(id);
}

function localized(value) {
  if (value && typeof value === "object") { return value[state.language] || value.fi || value.en || ""; }
  return value ? String(value) : "";
}

// =============================================================================================
// Language
// =============================================================================================

function initialLanguage() {
  let saved = null;
  try { saved = pickLanguage(window.localStorage.getItem(LANGUAGE_KEY)); } catch (error) { saved = null; }
  if (saved) { return saved; }
  for (const candidate of navigator.languages || [navigator.language]) {
    const language = pickLanguage(candidate);
    if (language) { return language; }
  }
  return "fi";
}

function storeLanguage(language) {
  try { window.localStorage.setItem(LANGUAGE_KEY, language); } catch (error) { /* storage blocked: fine */ }
}

async function changeLanguage(language) {
  if (!LANGUAGES.includes(language) || language === state.language) { return; }
  state.language = language;
  storeLanguage(language);
  applyLanguage();
  if (!state.advisor) { state.languageChosen = true; return; }
  try {
    const data = await api("PATCH", "/me", { language });
    if (data.advisor) { state.advisor = data.advisor; renderHeader(); }
  } catch (error) {
    flash(errorText(error), "error");
  }
}

/** Re-renders every text for the current language, keeping what the user typed. */
function applyLanguage() {
  document.documentElement.lang = state.language;
  document.title = t("product");
  document.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
  document.querySelectorAll("[data-i18n-label]").forEach((node) => {
    node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  });
  dom.languageSelect.value = state.language;
  renderHeader();
  if (state.advisor) {
    renderNav();
    renderNotices();
    if (state.route) { renderView(false, false); }
  } else if (state.phase === "login") {
    drawLoginView(false);
  }
}

// =============================================================================================
// The API
// =============================================================================================

class ApiError extends Error {
  constructor(status, code, data) {
    super(code);
    this.status = status;
    this.code = code;
    this.data = data && typeof data === "object" ? data : {};
  }
}

/**
 * One JSON request. State-changing ones carry X-CSRF-Token. A 401 (other than a wrong
 * password) ends the session, unless options.anonymous (the first /me, login).
 */
async function api(method, path, body, options = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") {
    init.headers["Content-Type"] = "application/json";
    if (state.csrf) { init.headers["X-CSRF-Token"] = state.csrf; }
    init.body = JSON.stringify(body === undefined ? {} : body);
  }
  let response;
  try {
    response = await fetch(API + path, init);
  } catch (error) {
    throw new ApiError(0, "network", {});
  }
  let data = null;
  if (response.status !== 204) {
    try { data = await response.json(); } catch (error) { data = null; }
  }
  if (response.ok) { return data || {}; }
  const code = data && typeof data.error === "string" ? data.error : (response.status >= 500 ? "server" : "unexpected");
  const failure = new ApiError(response.status, code, data);
  if (failure.data.retry_after === undefined) {
    const header = response.headers.get("Retry-After");
    if (header && /^\d+$/.test(header)) { failure.data.retry_after = Number(header); }
  }
  if (response.status === 401 && code !== "invalid_credentials" && !options.anonymous) {
    sessionEnded();
  } else if (response.status === 403 && code === "csrf" && method !== "GET" && !options.retried && state.advisor) {
    // The token may have been renewed (signed in again in another tab): fetch it, try once more.
    if (await refreshCsrf()) { return api(method, path, body, { ...options, retried: true }); }
  }
  throw failure;
}

async function refreshCsrf() {
  try {
    const me = await api("GET", "/me");
    applyMe(me);
    return Boolean(me.csrf_token);
  } catch (error) {
    return false;
  }
}

function retryMinutes(data) {
  const seconds = Number(data && data.retry_after);
  return Number.isFinite(seconds) && seconds > 0 ? Math.max(1, Math.ceil(seconds / 60)) : 1;
}

/** The translated message for an error (ApiError or anything else). */
function errorText(error, context) {
  if (!(error instanceof ApiError)) { return t("err_unexpected"); }
  const data = error.data;
  switch (error.code) {
    case "already_claimed":
      return data.by ? t("err_already_claimed", { by: data.by }) : t("err_already_claimed_someone");
    case "at_capacity":
      return context === "transfer" ? t("err_at_capacity_transfer") : t("err_at_capacity");
    case "locked":
      return t("err_locked", { minutes: retryMinutes(data) });
    case "rate_limited":
      return t("err_rate_limited", { minutes: retryMinutes(data) });
    case "bad_request":
      return data.field ? t("err_bad_request_field", { field: fieldName(data.field) }) : t("err_bad_request");
    default:
      return hasString("err_" + error.code) ? t("err_" + error.code) : t("err_unexpected");
  }
}

// =============================================================================================
// Status messages, announcements and notices
// =============================================================================================

/** A non-modal message in the status region at the top of main. */
function flash(text, tone) {
  if (!state.advisor) { return; }
  dom.flash.replaceChildren();
  if (text) { dom.flash.append(el("p", { class: `flash flash--${tone || "info"}` }, text)); }
}

/** Says text through a live region (assertive for crises). */
function announce(text, assertive) {
  const region = assertive ? dom.assertive : dom.polite;
  region.textContent = "";
  window.setTimeout(() => { region.textContent = text; }, 60);
}

function addNotice(code, conversationId) {
  const entry = state.entries.get(conversationId);
  state.noticeSeq += 1;
  const notice = { id: state.noticeSeq, code, conversation: conversationId, topic: entry ? entry.topic : null };
  state.notices.push(notice);
  renderNotices();
  announce(noticeText(notice), false);
}

function noticeText(notice) {
  const topic = notice.topic ? topicName(notice.topic) : t("topic_unknown");
  const key = hasString("notice_" + notice.code) ? "notice_" + notice.code : "notice_other";
  return t(key, { topic });
}

function dismissNotice(id) {
  state.notices = state.notices.filter((notice) => notice.id !== id);
  renderNotices();
}

function renderNotices() {
  const list = dom.notices.querySelector("ul");
  const focused = list.contains(document.activeElement);
  list.replaceChildren(...state.notices.map((notice) => el("li", { class: "notice" },
    el("span", { class: "notice-text" }, noticeText(notice)), " ",
    notice.conversation ? button(t("open"), () => { dismissNotice(notice.id); go("conversation", notice.conversation); }) : null,
    " ",
    button(t("dismiss"), () => dismissNotice(notice.id), { class: "secondary" }))));
  dom.notices.hidden = state.notices.length === 0;
  if (focused && !list.contains(document.activeElement)) { focusHeading(); }
}

// =============================================================================================
// Header and navigation
// =============================================================================================

function renderHeader() {
  const advisor = state.advisor;
  const signedIn = Boolean(advisor);
  dom.who.hidden = !signedIn;
  dom.logoutButton.hidden = !signedIn;
  dom.passwordButton.hidden = !signedIn;
  dom.nav.hidden = !signedIn;
  if (signedIn) {
    dom.who.textContent = t("signed_in_as", { name: advisor.display_name || advisor.name, role: roleName(advisor.role) });
  } else {
    dom.who.textContent = "";
    dom.nav.replaceChildren();
  }
  renderConnection();
  renderTeamStatus();
}

function renderTeamStatus() {
  const list = dom.teamStatus;
  list.replaceChildren();
  if (!state.advisor || state.advisor.role === "editor") { list.hidden = true; return; }
  const ids = state.myTeamIds.length ? state.myTeamIds : (state.advisor.teams || []);
  for (const id of ids) {
    const team = state.teams.get(id);
    if (team) { list.append(teamStatusItem(team)); }
  }
  list.hidden = list.children.length === 0;
}

function teamStatusItem(team) {
  const figures = [
    t("team_online", { n: formatNumber(team.online || 0) }),
    t("team_waiting", { n: formatNumber(team.waiting || 0) }),
    typeof team.estimated_wait_seconds === "number"
      ? t("team_wait_estimate", { time: formatApproxWait(team.estimated_wait_seconds) }) : t("team_wait_unknown")
  ];
  const hours = localized(team.hours);
  return el("li", { class: `team ${team.open ? "team--open" : "team--closed"}` },
    el("span", { class: "team-name" }, teamName(team.id)), " ",
    el("span", { class: "badge badge--team" }, team.open ? t("team_open") : t("team_closed")), " ",
    el("span", { class: "team-figures" }, figures.join(" · ")),
    !team.open && hours ? el("span", { class: "team-hours" }, ` (${t("team_hours", { hours })})`) : null);
}

function mergeTeams(list) {
  if (!Array.isArray(list)) { return; }
  for (const team of list) {
    if (team && team.id) { state.teams.set(team.id, { ...(state.teams.get(team.id) || {}), ...team }); }
  }
  renderTeamStatus();
}

function renderConnection() {
  const socket = state.socket;
  const show = Boolean(state.advisor) && socket.wanted;
  dom.conn.hidden = !show;
  if (!show) { dom.conn.textContent = ""; return; }
  const status = socket.open ? "live" : (socket.connectedOnce ? "reconnecting" : "connecting");
  dom.conn.className = `conn conn--${status}`;
  dom.conn.replaceChildren(el("span", { class: "conn-dot", "aria-hidden": "true" }), t("conn_" + status));
}

function allowedViews() {
  const role = state.advisor && state.advisor.role;
  return Object.keys(VIEWS).filter((name) => VIEWS[name].roles.includes(role));
}

function renderNav() {
  const allowed = allowedViews();
  const list = el("ul", { class: "nav-list" });
  dom.inboxCount = null;
  for (const name of NAV_ORDER) {
    if (!allowed.includes(name)) { continue; }
    const current = state.route && state.route.name === name;
    const link = el("a", { href: routeHash(name), class: "nav-link", "aria-current": current ? "page" : null });
    if (name === "inbox") {
      dom.inboxCount = link;
      link.textContent = t("nav_inbox_count", { n: state.inboxOrder.length });
    } else {
      link.textContent = t("nav_" + name);
    }
    list.append(el("li", {}, link));
  }
  dom.nav.replaceChildren(list);
}

function updateInboxCount() {
  if (dom.inboxCount) { dom.inboxCount.textContent = t("nav_inbox_count", { n: state.inboxOrder.length }); }
}

// =============================================================================================
// Routing: #/queue, #/inbox, #/conversation/<id>, #/users, #/audit, #/content
// =============================================================================================

function routeHash(name, id) { return `#/${name}${id ? "/" + enc(id) : ""}`; }

function parseRoute() {
  const hash = window.location.hash;
  if (!hash.startsWith("#/")) { return null; }
  const parts = hash.slice(2).split("/");
  let id = null;
  try { id = parts[1] ? decodeURIComponent(parts[1]) : null; } catch (error) { id = null; }
  return { name: parts[0], id };
}

function defaultView() { return state.advisor.role === "editor" ? "content" : "queue"; }

/** Goes to a view; message is shown in the status region once it is there. */
function go(name, id, message) {
  state.pendingFlash = message || null;
  const hash = routeHash(name, id);
  if (window.location.hash === hash) { showRoute(true); } else { window.location.hash = hash; }
}

function showRoute(moveFocus) {
  if (!state.advisor) { return; }
  let route = parseRoute();
  if (!route || !allowedViews().includes(route.name) || (route.name === "conversation" && !route.id)) {
    route = { name: defaultView(), id: null };
    window.history.replaceState(null, "", routeHash(route.name));
  }
  if (state.conversation && !(route.name === "conversation" && route.id === state.conversation.id)) {
    leaveConversation();
  }
  state.route = route;
  flash(state.pendingFlash || "", "success");
  state.pendingFlash = null;
  renderNav();
  renderView(true, moveFocus);
}

function viewHeading(text) { return el("h2", { class: "view-heading", tabindex: "-1" }, text); }

function focusHeading() {
  const heading = dom.view.querySelector("h2");
  if (heading) { heading.focus(); } else { dom.main.focus(); }
}

function current(seq) { return seq === state.renderSeq; }

/** Draws the current view; load: fetch its data; moveFocus: to its heading. */
function renderView(load, moveFocus) {
  state.renderSeq += 1;
  const seq = state.renderSeq;
  const route = state.route;
  dom.view.replaceChildren();
  const draw = {
    queue: drawQueueView,
    inbox: drawInboxView,
    conversation: drawConversationView,
    users: drawUsersView,
    audit: drawAuditView,
    content: drawContentView
  }[route.name];
  draw(dom.view, { load, seq, route });
  if (moveFocus) { focusHeading(); }
}

/** After a reconnect: fetch the current view again. */
function reloadView() {
  if (!state.route) { return; }
  if (state.route.name === "conversation" && state.conversation) {
    loadConversation(state.conversation);
  } else {
    renderView(true, false);
  }
}

// =============================================================================================
// Session: start, login, logout
// =============================================================================================

async function start() {
  bindChrome();
  applyLanguage();
  window.setInterval(tick, 1000);
  let me;
  try {
    me = await api("GET", "/me", undefined, { anonymous: true });
  } catch (error) {
    state.loginMessage = error.status === 401 ? null : error;
    drawLoginView(false, true);
    return;
  }
  enterApp(me, false);
}

function bindChrome() {
  for (const language of LANGUAGES) {
    dom.languageSelect.append(el("option", { value: language, lang: language },
      { fi: "Suomi", sv: "Svenska", en: "English" }[language]));
  }
  dom.languageSelect.value = state.language;
  dom.languageSelect.addEventListener("change", () => changeLanguage(dom.languageSelect.value));
  dom.skip.addEventListener("click", (event) => { event.preventDefault(); dom.main.focus(); });
  dom.logoutButton.addEventListener("click", logout);
  dom.passwordButton.addEventListener("click", (event) => openPasswordDialog(event.currentTarget));
  window.addEventListener("hashchange", () => {
    if (state.advisor && window.location.hash.startsWith("#/")) { showRoute(true); }
  });
  window.addEventListener("online", () => {
    const socket = state.socket;
    if (socket.wanted && !socket.ws) { window.clearTimeout(socket.retryTimer); socket.delay = RETRY_FIRST_MS; reconnect(); }
  });
}

function applyMe(me) {
  if (me.csrf_token) { state.csrf = me.csrf_token; }
  if (me.advisor) { state.advisor = me.advisor; }
  if (me.topics && typeof me.topics === "object") { state.topics = me.topics; }
  if (Array.isArray(me.outcomes) && me.outcomes.length) { state.outcomes = me.outcomes; }
  if (Array.isArray(me.teams)) {
    state.myTeamIds = me.teams.map((team) => team.id);
    mergeTeams(me.teams);
  }
}

function enterApp(me, afterLogin) {
  applyMe(me);
  const accountLanguage = pickLanguage(state.advisor.language);
  if (afterLogin && state.languageChosen && accountLanguage !== state.language) {
    api("PATCH", "/me", { language: state.language })
      .then((data) => { if (data.advisor) { state.advisor = data.advisor; } })
      .catch(() => { /* the choice still holds in this browser */ });
  } else if (accountLanguage && accountLanguage !== state.language) {
    state.language = accountLanguage;
    storeLanguage(accountLanguage);
  }
  state.languageChosen = false;
  state.loginMessage = null;
  state.phase = "app";
  document.documentElement.lang = state.language;
  if (state.advisor.role !== "editor") {
    startSocket();
    api("GET", "/teams").then((data) => mergeTeams(data.teams)).catch(() => { /* names fall back to ids */ });
  }
  applyLanguage();
  showRoute(afterLogin);
}

function teardown() {
  stopSocket();
  document.querySelectorAll("dialog[open]").forEach((dialog) => dialog.close());
  if (state.conversation) { window.clearTimeout(state.conversation.typingTimer); }
  Object.assign(state, {
    csrf: null, advisor: null, topics: {}, outcomes: OUTCOMES, myTeamIds: [], allTeams: null,
    queueOrder: [], inboxOrder: [], route: null, conversation: null, notices: [], users: null,
    audit: { advisor: "", conversation: "", entries: [], more: false }, content: null, pendingFlash: null
  });
  state.teams.clear();
  state.entries.clear();
  state.drafts.clear();
  dom.flash.replaceChildren();
  renderNotices();
}

function sessionEnded() {
  if (!state.advisor) { return; }
  teardown();
  state.loginMessage = "session_ended";
  renderHeader();
  drawLoginView(true);
}

async function logout() {
  try {
    await api("POST", "/logout");
  } catch (error) {
    if (error.status !== 401) { flash(errorText(error), "error"); }
    return;   // on 401 sessionEnded has already shown the login
  }
  teardown();
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  state.loginMessage = "logged_out";
  renderHeader();
  drawLoginView(true);
}

/** The login view. moveFocus: to its heading; focusName: to the name field. */
function drawLoginView(moveFocus, focusName) {
  state.phase = "login";
  const previous = dom.view.querySelector("#login-name");
  const typedName = previous ? previous.value : "";
  dom.view.replaceChildren();
  const message = state.loginMessage;
  const name = el("input", { id: "login-name", name: "username", type: "text", autocomplete: "username",
    autocapitalize: "none", spellcheck: "false", required: true, value: typedName });
  const password = el("input", { id: "login-password", name: "password", type: "password",
    autocomplete: "current-password", required: true });
  const error = el("p", { class: "form-error", id: "login-error", role: "alert" });
  const submit = el("button", { type: "submit", class: "primary" }, t("login_submit"));
  const form = el("form", { class: "login-form", novalidate: true },
    el("div", { class: "field" }, el("label", { for: "login-name" }, t("login_name")), name),
    el("div", { class: "field" }, el("label", { for: "login-password" }, t("login_password")), password),
    error,
    el("div", { class: "form-buttons" }, submit));
  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) { return; }
    error.textContent = "";
    if (!name.value.trim() || !password.value) {
      error.textContent = t("login_missing");
      (name.value.trim() ? password : name).focus();
      return;
    }
    busy = true;
    submit.textContent = t("login_busy");
    try {
      const data = await api("POST", "/login", { name: name.value.trim(), password: password.value }, { anonymous: true });
      state.csrf = data.csrf_token || null;
      const me = await api("GET", "/me", undefined, { anonymous: true });
      enterApp(me, true);
    } catch (failure) {
      error.textContent = errorText(failure);
      if (failure.code === "invalid_credentials") { password.value = ""; password.focus(); }
    } finally {
      busy = false;
      submit.textContent = t("login_submit");
    }
  });
  const section = el("section", { class: "login", "aria-labelledby": "login-heading" },
    el("h2", { id: "login-heading", class: "view-heading", tabindex: "-1" }, t("login_title")),
    message ? el("p", { class: "login-message", role: message === "session_ended" ? "alert" : "status" },
      typeof message === "string" ? t(message) : errorText(message)) : null,
    form);
  dom.view.append(section);
  if (moveFocus) { focusHeading(); } else if (focusName) { name.focus(); }
}

// =============================================================================================
// The live connection
// =============================================================================================

function startSocket() {
  const socket = state.socket;
  socket.wanted = true;
  socket.delay = RETRY_FIRST_MS;
  socket.connectedOnce = false;
  openSocket();
}

function stopSocket() {
  const socket = state.socket;
  socket.wanted = false;
  window.clearTimeout(socket.retryTimer);
  window.clearInterval(socket.pingTimer);
  if (socket.ws) { const ws = socket.ws; socket.ws = null; ws.close(1000); }
  socket.open = false;
  renderConnection();
}

function openSocket() {
  const socket = state.socket;
  if (!socket.wanted || socket.ws) { return; }
  const url = `${window.location.protocol === "https:" ? "wss:" : "ws:"}//${window.location.host}/console/ws`;
  let ws;
  try { ws = new WebSocket(url); } catch (error) { scheduleReconnect(); return; }
  socket.ws = ws;
  renderConnection();
  ws.addEventListener("open", () => {
    if (socket.ws !== ws) { return; }
    socket.open = true;
    socket.delay = RETRY_FIRST_MS;
    window.clearInterval(socket.pingTimer);
    socket.pingTimer = window.setInterval(() => sendFrame({ type: "ping" }), PING_MS);
    renderConnection();
  });
  ws.addEventListener("message", (event) => {
    if (socket.ws !== ws) { return; }
    let frame;
    try { frame = JSON.parse(event.data); } catch (error) { return; }
    if (frame && typeof frame === "object") { handleFrame(frame); }
  });
  ws.addEventListener("close", () => {
    if (socket.ws !== ws) { return; }
    socket.ws = null;
    socket.open = false;
    window.clearInterval(socket.pingTimer);
    if (socket.wanted) { socket.connectedOnce = true; renderConnection(); scheduleReconnect(); }
  });
}

function scheduleReconnect() {
  const socket = state.socket;
  window.clearTimeout(socket.retryTimer);
  const delay = socket.delay;
  socket.delay = Math.min(socket.delay * 2, RETRY_MAX_MS);
  socket.retryTimer = window.setTimeout(reconnect, delay);
}

/** Before reconnecting, asks the API who we are: an expired session answers 401 there. */
async function reconnect() {
  const socket = state.socket;
  if (!socket.wanted || socket.ws) { return; }
  try {
    applyMe(await api("GET", "/me"));
  } catch (error) {
    if (error.status === 401 || !socket.wanted) { return; }
    scheduleReconnect();
    return;
  }
  openSocket();
}

function sendFrame(frame) {
  const ws = state.socket.ws;
  if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(frame)); }
}

function handleFrame(frame) {
  switch (frame.type) {
    case "hello": onHello(frame); break;
    case "entry": if (frame.entry) { upsertEntry(frame.entry, true); } break;
    case "entry_removed": removeEntry(frame.id, frame.why); break;
    case "message": onConversationFrame(frame, (conv) => addLiveMessage(conv, frame.message)); break;
    case "note": onConversationFrame(frame, (conv) => addLiveNote(conv, frame.note)); break;
    case "typing": onConversationFrame(frame, showTyping); break;
    case "teams": mergeTeams(frame.teams); break;
    case "notice": addNotice(frame.code, frame.conversation); break;
    case "error": onSocketError(frame); break;
    default: break;   // pong and anything newer
  }
}

function onHello(frame) {
  const socket = state.socket;
  const again = socket.connectedOnce;
  socket.connectedOnce = true;
  socket.open = true;
  renderConnection();
  if (frame.advisor) { state.advisor = { ...state.advisor, ...frame.advisor }; renderHeader(); }
  if (Array.isArray(frame.teams)) { mergeTeams(frame.teams); }
  if (Array.isArray(frame.entries)) { replaceEntries(frame.entries, null); }
  if (again) {
    reloadView();   // also sends watch again for an open conversation
  } else if (state.conversation) {
    sendFrame({ type: "watch", conversation: state.conversation.id });
  }
}

function onConversationFrame(frame, apply) {
  const conv = state.conversation;
  if (conv && frame.conversation === conv.id) { apply(conv); }
}

function onSocketError(frame) {
  const code = frame.error;
  if (code === "forbidden" || code === "bad_frame") { flash(t("ws_err_" + code), "error"); }
}

// =============================================================================================
// Entries: the queue and inbox store, kept live
// =============================================================================================

function entryTime(entry) { return parseTime(entry.queued_at) ?? parseTime(entry.handoff_at) ?? 0; }

function compareQueue(a, b) {
  if (Boolean(a.crisis) !== Boolean(b.crisis)) { return a.crisis ? -1 : 1; }
  return entryTime(a) - entryTime(b);
}

function compareInbox(a, b) { return entryTime(a) - entryTime(b); }

function listFor(entry) { return entry.status === "message" ? state.inboxOrder : state.queueOrder; }

function removeId(list, id) {
  const index = list.indexOf(id);
  if (index >= 0) { list.splice(index, 1); }
}

/** Puts entry in its list: in place when its sort keys did not change, else where it sorts. */
function placeEntry(entry, old) {
  const list = listFor(entry);
  const other = list === state.queueOrder ? state.inboxOrder : state.queueOrder;
  removeId(other, entry.id);
  const compare = list === state.queueOrder ? compareQueue : compareInbox;
  if (list.includes(entry.id) && old && compare(old, entry) === 0 && compare(entry, old) === 0) { return; }
  removeId(list, entry.id);
  let index = list.findIndex((id) => compare(entry, state.entries.get(id)) < 0);
  if (index < 0) { index = list.length; }
  list.splice(index, 0, entry.id);
}

function upsertEntry(entry, live) {
  if (!entry || !entry.id) { return; }
  const old = state.entries.get(entry.id);
  state.entries.set(entry.id, entry);
  placeEntry(entry, old);
  if (live && entry.status === "queued" && (!old || old.status !== "queued")) {
    const topic = entry.topic ? topicName(entry.topic) : t("topic_unknown");
    announce(t(entry.crisis ? "announce_new_crisis" : "announce_new", { topic }), Boolean(entry.crisis));
  }
  entriesChanged(entry.id);
}

function removeEntry(id, why) {
  if (!id) { return; }
  state.entries.delete(id);
  removeId(state.queueOrder, id);
  removeId(state.inboxOrder, id);
  const conv = state.conversation;
  if (conv && conv.id === id) {
    conv.entry = null;
    conv.removedWhy = why || null;
  }
  entriesChanged(id);
}

/** Replaces the stored entries (all of them, or only the queue's or the inbox's), in the server's order. */
function replaceEntries(entries, which) {
  const keep = (entry) => (which === "queue" ? entry.status === "message" : which === "inbox" ? entry.status !== "message" : false);
  for (const [id, entry] of state.entries) { if (!keep(entry)) { state.entries.delete(id); } }
  if (which !== "inbox") { state.queueOrder = []; }
  if (which !== "queue") { state.inboxOrder = []; }
  for (const entry of entries) {
    if (!entry || !entry.id) { continue; }
    state.entries.set(entry.id, entry);
    const list = listFor(entry);
    if (!list.includes(entry.id)) { list.push(entry.id); }
  }
  entriesChanged(null);
}

function entriesChanged(id) {
  updateInboxCount();
  if (!state.route) { return; }
  if (state.route.name === "queue") { updateQueueTable(); }
  if (state.route.name === "inbox") { updateInboxTable(); }
  const conv = state.conversation;
  if (conv && (id === null || id === conv.id)) {
    if (state.entries.has(conv.id)) { conv.entry = state.entries.get(conv.id); }
    updateConversationChrome(conv);
  }
}

function isMine(entry) {
  return Boolean(entry && entry.status === "assigned" && entry.assigned_to && state.advisor
    && entry.assigned_to.id === state.advisor.id);
}

function statusText(entry) {
  if (entry.status === "queued") {
    return entry.position ? t("status_waiting_position", { n: entry.position }) : t("status_waiting");
  }
  if (entry.status === "assigned") {
    if (isMine(entry)) { return t("status_you"); }
    const name = entry.assigned_to && entry.assigned_to.display_name;
    return t("status_handles", { name: name || t("sender_advisor") });
  }
  if (entry.status === "message") { return t("status_message"); }
  return String(entry.status || t("none"));
}

function priorityNode(entry) {
  return entry.crisis
    ? el("span", { class: "badge badge--crisis" }, el("span", { class: "badge-icon", "aria-hidden": "true" }, "!"), t("crisis"))
    : el("span", { class: "priority-normal" }, t("normal"));
}

function replyByNode(ymd) {
  const wrap = el("span", { class: "reply-by" }, el("time", { datetime: ymd || null }, formatDay(ymd)));
  const today = helsinkiDay(Date.now());
  if (ymd && ymd < today) {
    wrap.append(" ", el("span", { class: "badge badge--overdue" }, t("overdue")));
  } else if (ymd && ymd === today) {
    wrap.append(" ", el("span", { class: "badge badge--today" }, t("due_today")));
  }
  return wrap;
}

// =============================================================================================
// Tables kept live: rows are reused by id so keyboard focus survives updates
// =============================================================================================

function tableWrap(captionKey, columns, tbody, extra) {
  return el("div", { class: "table-wrap", ...(extra || {}) },
    el("table", { class: "data" },
      el("caption", { class: "visually-hidden" }, t(captionKey)),
      el("thead", {}, el("tr", {}, columns.map((key) => el("th", { scope: "col" }, t(key))))),
      tbody));
}

/** Brings tbody's rows into the order of ids, rebuilding a row only when its signature changed. */
function reconcileRows(tbody, ids, build, signature) {
  const active = document.activeElement;
  const hadFocus = tbody.contains(active);
  const activeRow = hadFocus ? active.closest("tr") : null;
  const activeKey = activeRow ? activeRow.dataset.key : null;
  const activeAction = hadFocus ? active.dataset.action : null;
  const existing = new Map(Array.from(tbody.children, (row) => [row.dataset.key, row]));
  ids.forEach((id, index) => {
    const sig = signature(id);
    let row = existing.get(id);
    existing.delete(id);
    if (!row || row.dataset.sig !== sig) {
      const fresh = build(id);
      fresh.dataset.key = id;
      fresh.dataset.sig = sig;
      if (row) { row.replaceWith(fresh); }
      row = fresh;
    }
    if (tbody.children[index] !== row) { tbody.insertBefore(row, tbody.children[index] || null); }
  });
  existing.forEach((row) => row.remove());
  if (hadFocus && !tbody.contains(document.activeElement)) {
    if (active.isConnected) { active.focus(); return; }
    const row = Array.from(tbody.children).find((candidate) => candidate.dataset.key === activeKey);
    const target = row && ((activeAction && row.querySelector(`[data-action="${activeAction}"]`)) || row.querySelector("button"));
    if (target) { target.focus(); } else { focusHeading(); }
  }
}

/** Rebuilds container's content; focus returns to the same action of the same row (data-key). */
function rebuildKeepingFocus(container, rebuild) {
  const active = document.activeElement;
  const inside = container.contains(active);
  const keyed = inside ? active.closest("[data-key]") : null;
  const key = keyed ? keyed.dataset.key : null;
  const action = inside ? active.dataset.action : null;
  rebuild();
  if (!inside || container.contains(document.activeElement)) { return; }
  const row = key === null ? null : Array.from(container.querySelectorAll("[data-key]")).find((node) => node.dataset.key === key);
  const target = row && ((action && row.querySelector(`[data-action="${action}"]`)) || row.querySelector("button"));
  if (target) { target.focus(); } else { focusHeading(); }
}

function entrySignature(id) {
  const entry = state.entries.get(id);
  return `${state.language}|${helsinkiDay(Date.now())}|${JSON.stringify(entry)}|${teamName(entry.team)}`;
}

// =============================================================================================
// Queue view
// =============================================================================================

const QUEUE_COLUMNS = ["col_priority", "col_waiting", "col_topic", "col_language", "col_channel",
  "col_team", "col_status", "col_reason", "col_actions"];

function drawQueueView(root, { load, seq }) {
  const tbody = el("tbody", { id: "queue-rows" });
  root.append(
    viewHeading(t("queue_title")),
    tableWrap("queue_caption", QUEUE_COLUMNS, tbody, { id: "queue-table" }),
    el("p", { class: "empty", id: "queue-empty", hidden: true }, t("queue_empty")));
  updateQueueTable();
  if (load) { loadQueue(seq); }
}

async function loadQueue(seq) {
  try {
    const data = await api("GET", "/queue");
    replaceEntries(Array.isArray(data.entries) ? data.entries : [], "queue");
  } catch (error) {
    if (current(seq)) { flash(errorText(error), "error"); }
  }
}

function updateQueueTable() {
  const tbody = document.getElementById("queue-rows");
  if (!tbody) { return; }
  reconcileRows(tbody, state.queueOrder, queueRow, entrySignature);
  const empty = state.queueOrder.length === 0;
  document.getElementById("queue-empty").hidden = !empty;
  document.getElementById("queue-table").hidden = empty;
}

/** Which row a repeated button belongs to, for screen readers: topic (if known) and team. */
function rowContext(entry) {
  return `: ${[entry.topic ? topicName(entry.topic) : null, teamName(entry.team)].filter(Boolean).join(", ")}`;
}

function queueRow(id) {
  const entry = state.entries.get(id);
  const topic = topicName(entry.topic);
  const actions = el("td", { class: "actions" });
  if (entry.status === "queued") {
    actions.append(button([t("claim"), visuallyHidden(rowContext(entry))], (event) => claim(entry.id, event.currentTarget),
      { class: "primary", "data-action": "claim" }), " ");
  }
  actions.append(button([t("open"), visuallyHidden(rowContext(entry))], () => go("conversation", entry.id),
    { class: entry.status === "queued" ? "secondary" : null, "data-action": "open" }));
  return el("tr", { class: entry.crisis ? "row--crisis" : null },
    el("td", { class: "priority" }, priorityNode(entry)),
    el("td", {}, sinceElement(entry.queued_at || entry.handoff_at)),
    el("td", {}, topic),
    el("td", {}, languageName(entry.language)),
    el("td", {}, channelName(entry.channel)),
    el("td", {}, teamName(entry.team)),
    el("td", { class: isMine(entry) ? "mine" : null }, statusText(entry)),
    el("td", {}, reasonName(entry.reason)),
    actions);
}

const claiming = new Set();

async function claim(id, trigger) {
  if (claiming.has(id)) { return; }
  claiming.add(id);
  if (trigger) { trigger.setAttribute("aria-busy", "true"); }
  try {
    const data = await api("POST", `/conversations/${enc(id)}/claim`);
    if (data.entry) { upsertEntry(data.entry, false); }
    if (state.route && state.route.name === "conversation" && state.route.id === id) {
      announce(t("claimed_ok"), false);
      const reply = document.getElementById("reply-text");
      if (reply) { reply.focus(); }
    } else {
      state.replyFocusFor = id;   // once the transcript is loaded, the advisor can type at once
      go("conversation", id, t("claimed_ok"));
    }
  } catch (error) {
    flash(errorText(error), "error");
  } finally {
    claiming.delete(id);
    if (trigger) { trigger.removeAttribute("aria-busy"); }
  }
}

// =============================================================================================
// Inbox view
// =============================================================================================

const INBOX_COLUMNS = ["col_received", "col_reply_by", "col_priority", "col_team", "col_topic",
  "col_language", "col_channel", "col_actions"];

function drawInboxView(root, { load, seq }) {
  const tbody = el("tbody", { id: "inbox-rows" });
  root.append(
    viewHeading(t("inbox_title")),
    tableWrap("inbox_caption", INBOX_COLUMNS, tbody, { id: "inbox-table" }),
    el("p", { class: "empty", id: "inbox-empty", hidden: true }, t("inbox_empty")));
  updateInboxTable();
  if (load) { loadInbox(seq); }
}

async function loadInbox(seq) {
  try {
    const data = await api("GET", "/inbox");
    replaceEntries(Array.isArray(data.entries) ? data.entries : [], "inbox");
  } catch (error) {
    if (current(seq)) { flash(errorText(error), "error"); }
  }
}

function updateInboxTable() {
  const tbody = document.getElementById("inbox-rows");
  if (!tbody) { return; }
  reconcileRows(tbody, state.inboxOrder, inboxRow, entrySignature);
  const empty = state.inboxOrder.length === 0;
  document.getElementById("inbox-empty").hidden = !empty;
  document.getElementById("inbox-table").hidden = empty;
}

function inboxRow(id) {
  const entry = state.entries.get(id);
  const topic = topicName(entry.topic);
  const received = entry.queued_at || entry.handoff_at;
  return el("tr", { class: entry.crisis ? "row--crisis" : null },
    el("td", {}, timeElement(received, formatDateTime(received))),
    el("td", {}, replyByNode(entry.reply_by)),
    el("td", { class: "priority" }, priorityNode(entry)),
    el("td", {}, teamName(entry.team)),
    el("td", {}, topic),
    el("td", {}, languageName(entry.language)),
    el("td", {}, channelName(entry.channel)),
    el("td", { class: "actions" },
      button([t("open"), visuallyHidden(rowContext(entry))], () => go("conversation", entry.id), { "data-action": "open" })));
}

// =============================================================================================
// Conversation view
// =============================================================================================

function newConversation(id) {
  let drafts = state.drafts.get(id);
  if (!drafts) { drafts = { reply: "", note: "", answer: "", canned: "" }; state.drafts.set(id, drafts); }
  return {
    id, entry: state.entries.get(id) || null, loaded: false, removedWhy: null, outcome: null, createdAt: null,
    messages: new Map(), notes: new Map(), mode: null, canned: null, drafts,
    typingSentAt: 0, typingTimer: 0, sending: false, dom: {}
  };
}

function leaveConversation() {
  const conv = state.conversation;
  if (!conv) { return; }
  sendFrame({ type: "unwatch", conversation: conv.id });
  window.clearTimeout(conv.typingTimer);
  const drafts = conv.drafts;
  if (!drafts.reply && !drafts.note && !drafts.answer) { state.drafts.delete(conv.id); }
  state.conversation = null;
}

function conversationMode(conv) {
  const entry = conv.entry;
  if (!entry) { return "ended"; }
  if (entry.status === "message") { return "message"; }
  if (entry.status === "queued") { return "queued"; }
  if (entry.status === "assigned") { return isMine(entry) ? "hold" : "watch"; }
  return "ended";
}

function conversationTitle(conv) {
  const topic = conv.entry && conv.entry.topic;
  return topic ? t("conversation_title", { topic: topicName(topic) }) : t("conversation");
}

function drawConversationView(root, { load, route }) {
  let conv = state.conversation;
  if (!conv || conv.id !== route.id) { conv = newConversation(route.id); state.conversation = conv; }
  const parts = {};
  conv.dom = parts;
  parts.heading = viewHeading(conversationTitle(conv));
  parts.back = el("a", { class: "back-link", href: routeHash("queue") }, t("back_queue"));
  parts.summary = el("dl", { class: "summary", "aria-label": t("summary_label") });
  parts.state = el("p", { class: "conv-state", role: "status" });
  parts.actions = el("div", { class: "conv-actions", role: "group", "aria-label": t("conversation_actions") });
  parts.list = el("ol", { class: "transcript" });
  parts.log = el("div", { class: "log", role: "log", tabindex: "0", "aria-labelledby": "transcript-heading" }, parts.list);
  parts.typing = el("p", { class: "typing", "aria-live": "polite" });
  parts.compose = el("div", { class: "compose" });
  parts.side = el("div", { class: "conv-side" });
  parts.root = el("div", { class: "conversation" },
    el("div", { class: "conv-head" }, parts.heading, parts.back),
    parts.summary, parts.state, parts.actions,
    el("div", { class: "conv-layout" },
      el("section", { class: "conv-main", "aria-labelledby": "transcript-heading" },
        el("h3", { id: "transcript-heading" }, t("transcript")), parts.log, parts.typing, parts.compose),
      parts.side));
  root.append(parts.root);
  if (conv.loaded) {
    fillConversation(conv);
  } else {
    parts.list.append(el("li", { class: "item item--loading" }, t("loading")));
  }
  if (load || !conv.loaded) { loadConversation(conv); }
}

async function loadConversation(conv) {
  sendFrame({ type: "watch", conversation: conv.id });   // first, so nothing falls between
  let data;
  try {
    data = await api("GET", `/conversations/${enc(conv.id)}`);
  } catch (error) {
    if (state.conversation === conv) { showConversationError(conv, error); }
    return;
  }
  if (state.conversation !== conv) { return; }
  conv.loaded = true;
  conv.entry = data.entry || null;
  conv.outcome = data.outcome === undefined ? null : data.outcome;
  conv.createdAt = data.created_at || null;
  if (data.entry) { conv.removedWhy = null; }
  (Array.isArray(data.messages) ? data.messages : []).forEach((message) => storeMessage(conv, message));
  (Array.isArray(data.notes) ? data.notes : []).forEach((note) => storeNote(conv, note));
  fillConversation(conv);
  if (data.entry && state.entries.has(data.entry.id)) { upsertEntry(data.entry, false); }
  if (state.replyFocusFor === conv.id) {
    state.replyFocusFor = null;
    const reply = document.getElementById("reply-text");
    if (reply) { reply.focus(); }
  }
}

function showConversationError(conv, error) {
  const parts = conv.dom;
  if (!parts.list) { return; }
  parts.list.replaceChildren(el("li", { class: "item item--error" },
    error.code === "not_found" ? t("err_not_found") : errorText(error)));
  parts.compose.replaceChildren();
  parts.side.replaceChildren();
  parts.actions.replaceChildren();
  parts.actions.hidden = true;
}

function fillConversation(conv) {
  const parts = conv.dom;
  if (!parts.list) { return; }
  renderTranscript(conv);
  conv.mode = null;
  updateConversationChrome(conv);
}

/** Updates heading, summary and state line; rebuilds the controls only when the mode changed. */
function updateConversationChrome(conv) {
  const parts = conv.dom;
  if (!parts.summary || !conv.loaded) { return; }
  parts.heading.textContent = conversationTitle(conv);
  const back = conv.entry && conv.entry.status === "message" ? "inbox" : "queue";
  parts.back.setAttribute("href", routeHash(back));
  parts.back.textContent = t(back === "inbox" ? "back_inbox" : "back_queue");
  parts.root.classList.toggle("conversation--crisis", Boolean(conv.entry && conv.entry.crisis));
  renderSummary(conv);
  const mode = conversationMode(conv);
  const stateText = conversationStateText(conv, mode);
  if (parts.state.textContent !== stateText) { parts.state.textContent = stateText; }
  if (mode === conv.mode) { return; }
  conv.mode = mode;
  const active = document.activeElement;
  const controls = [parts.actions, parts.compose, parts.side];
  const hadFocus = controls.some((node) => node.contains(active));
  const activeId = hadFocus ? active.id : null;
  renderConversationActions(conv, mode);
  renderCompose(conv, mode);
  renderSide(conv, mode);
  if (hadFocus && !active.isConnected) {
    const again = activeId && document.getElementById(activeId);
    (again || parts.heading).focus();
  }
}

function conversationStateText(conv, mode) {
  switch (mode) {
    case "hold": return t("state_hold");
    case "queued": return t("state_queued");
    case "watch": return t("state_watch", { name: (conv.entry.assigned_to && conv.entry.assigned_to.display_name) || t("sender_advisor") });
    case "message": return t("state_message", { date: formatDay(conv.entry.reply_by) });
    default:
      return conv.removedWhy && hasString("removed_" + conv.removedWhy) ? t("removed_" + conv.removedWhy) : t("state_ended");
  }
}

function outcomeText(outcome) {
  if (!outcome) { return null; }
  if (typeof outcome === "string") { return outcomeName(outcome); }
  if (typeof outcome === "object" && outcome.outcome) {
    return outcomeName(outcome.outcome) + (outcome.service ? `: ${outcome.service}` : "");
  }
  return null;
}

function renderSummary(conv) {
  const entry = conv.entry;
  const rows = [];
  if (entry) {
    rows.push(["sum_status", statusText(entry)], ["sum_priority", priorityNode(entry)],
      ["sum_topic", topicName(entry.topic)], ["sum_language", languageName(entry.language)],
      ["sum_channel", channelName(entry.channel)], ["sum_team", teamName(entry.team)],
      ["sum_reason", reasonName(entry.reason)]);
    if (entry.status === "queued") { rows.push(["sum_waiting", sinceElement(entry.queued_at || entry.handoff_at)]); }
    if (entry.status === "assigned") { rows.push(["sum_since_handoff", sinceElement(entry.handoff_at || entry.queued_at)]); }
    if (entry.status === "message") {
      rows.push(["sum_received", formatDateTime(entry.queued_at || entry.handoff_at)], ["sum_reply_by", replyByNode(entry.reply_by)]);
    }
  }
  if (conv.createdAt) { rows.push(["sum_started", formatDateTime(conv.createdAt)]); }
  const outcome = outcomeText(conv.outcome);
  if (outcome) { rows.push(["sum_outcome", outcome]); }
  conv.dom.summary.replaceChildren(...rows.map(([key, value]) =>
    el("div", { class: "summary-item" }, el("dt", {}, t(key)), el("dd", {}, value))));
}

function renderConversationActions(conv, mode) {
  const parts = conv.dom;
  const admin = state.advisor.role === "admin";
  const buttons = [];
  if (mode === "queued") {
    buttons.push(button(t("claim"), (event) => claim(conv.id, event.currentTarget), { class: "primary", id: "conv-claim" }));
  }
  if (mode === "hold" || (admin && (mode === "watch" || mode === "queued"))) {
    buttons.push(button(t("transfer"), (event) => openTransferDialog(conv, event.currentTarget), { id: "conv-transfer" }));
  }
  if (mode === "hold" || (admin && mode === "watch")) {
    buttons.push(button(t("release"), (event) => openReleaseDialog(conv, event.currentTarget), { id: "conv-release" }));
    buttons.push(button(t("close_conversation"), (event) => openCloseDialog(conv, event.currentTarget), { id: "conv-close" }));
  }
  parts.actions.replaceChildren(...buttons);
  parts.actions.hidden = buttons.length === 0;
}

// --- the transcript ---------------------------------------------------------------------------

function storeMessage(conv, message) {
  if (!message || message.seq === undefined || message.seq === null) { return false; }
  const key = String(message.seq);
  if (conv.messages.has(key)) { return false; }
  conv.messages.set(key, message);
  return true;
}

function storeNote(conv, note) {
  if (!note || note.id === undefined || note.id === null) { return false; }
  const key = String(note.id);
  if (conv.notes.has(key)) { return false; }
  conv.notes.set(key, note);
  return true;
}

function messageKey(message) { return { at: parseTime(message.at) ?? 0, kind: 0, n: Number(message.seq) || 0 }; }
function noteKey(note) { return { at: parseTime(note.at) ?? 0, kind: 1, n: Number(note.id) || 0 }; }

function compareKeys(a, b) {
  if (a.kind === 0 && b.kind === 0) { return a.n - b.n; }
  if (a.at !== b.at) { return a.at - b.at; }
  if (a.kind !== b.kind) { return a.kind - b.kind; }
  return a.n - b.n;
}

function renderTranscript(conv) {
  const items = [];
  conv.messages.forEach((message) => items.push({ key: messageKey(message), node: messageNode(message) }));
  conv.notes.forEach((note) => items.push({ key: noteKey(note), node: noteNode(note) }));
  items.sort((a, b) => compareKeys(a.key, b.key));
  items.forEach((item) => { item.node.neuvoKey = item.key; });
  const list = conv.dom.list;
  list.replaceChildren(...items.map((item) => item.node));
  if (!items.length) { list.append(el("li", { class: "item item--empty" }, t("transcript_empty"))); }
  conv.dom.log.scrollTop = conv.dom.log.scrollHeight;
}

function insertItem(conv, node, key, forceScroll) {
  const { list, log } = conv.dom;
  if (!list || !conv.loaded) { return; }
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  list.querySelectorAll(".item--empty").forEach((placeholder) => placeholder.remove());
  node.neuvoKey = key;
  let after = null;
  for (let child = list.lastElementChild; child; child = child.previousElementSibling) {
    if (child.neuvoKey && compareKeys(child.neuvoKey, key) <= 0) { after = child; break; }
  }
  if (after) { after.after(node); } else { list.prepend(node); }
  if (nearBottom || forceScroll) { log.scrollTop = log.scrollHeight; }
}

function addLiveMessage(conv, message, own) {
  if (!storeMessage(conv, message)) { return; }
  if (message.sender === "citizen") { hideTyping(conv); }
  insertItem(conv, messageNode(message), messageKey(message), own);
}

function addLiveNote(conv, note, own) {
  if (!storeNote(conv, note)) { return; }
  insertItem(conv, noteNode(note), noteKey(note), own);
}

function isOwnAdvisorMessage(message) {
  return message.sender === "advisor" && state.advisor && message.author
    && message.author === state.advisor.display_name;
}

function senderLabel(message, sender) {
  if (sender === "advisor") {
    if (isOwnAdvisorMessage(message)) { return t("sender_you"); }
    return message.author ? String(message.author) : t("sender_advisor");
  }
  return t("sender_" + sender);
}

function readingText(reading) {
  if (!reading || typeof reading !== "object") { return ""; }
  const parts = [];
  if (reading.topic && reading.topic !== "none") { parts.push(topicName(reading.topic)); }
  if (reading.intent) { parts.push(String(reading.intent)); }
  if (typeof reading.confidence === "number") { parts.push(formatPercent(reading.confidence)); }
  return parts.join(" · ");
}

function buttonLabels(buttons) {
  if (!Array.isArray(buttons)) { return []; }
  return buttons.map((item) => (typeof item === "string" ? item : item && (item.label || item.title || item.text)))
    .filter(Boolean).map(String);
}

function messageNode(message) {
  const sender = SENDERS.includes(message.sender) ? message.sender : "system";
  const classes = ["item", "msg", `msg--${sender}`];
  if (isOwnAdvisorMessage(message)) { classes.push("msg--mine"); }
  if (message.kind && message.kind !== "text") { classes.push(`msg--kind-${token(message.kind)}`); }
  const node = el("li", { class: classes.join(" ") },
    el("p", { class: "meta" }, el("span", { class: "sender" }, senderLabel(message, sender)), " ", timeElement(message.at)),
    el("p", { class: "text" }, message.text === null || message.text === undefined ? "" : String(message.text)));
  const reading = sender === "citizen" ? readingText(message.reading) : "";
  if (reading) { node.append(el("p", { class: "reading" }, `${t("reading_label")} ${reading}`)); }
  if (Array.isArray(message.redactions) && message.redactions.length) {
    node.append(el("p", { class: "reading" }, t("redacted", { list: message.redactions.map(redactionName).join(", ") })));
  }
  const labels = buttonLabels(message.buttons);
  if (labels.length) { node.append(el("p", { class: "reading" }, t("buttons_shown", { list: labels.join(" · ") }))); }
  return node;
}

function noteNode(note) {
  const kind = NOTE_KINDS.includes(note.kind) ? note.kind : "note";
  return el("li", { class: `item note note--${kind}` },
    el("p", { class: "note-label" }, t("note_label_" + kind)),
    el("p", { class: "meta" },
      el("span", { class: "sender" }, note.author ? String(note.author) : t("system")), " ", timeElement(note.at)),
    el("p", { class: "text" }, note.text === null || note.text === undefined ? "" : String(note.text)));
}

function showTyping(conv) {
  const typing = conv.dom.typing;
  if (!typing) { return; }
  if (typing.textContent !== t("citizen_typing")) { typing.textContent = t("citizen_typing"); }
  window.clearTimeout(conv.typingTimer);
  conv.typingTimer = window.setTimeout(() => hideTyping(conv), TYPING_SHOWN_MS);
}

function hideTyping(conv) {
  window.clearTimeout(conv.typingTimer);
  if (conv.dom.typing) { conv.dom.typing.textContent = ""; }
}

// --- replying, answering, notes, canned responses ----------------------------------------------

function renderCompose(conv, mode) {
  const compose = conv.dom.compose;
  compose.replaceChildren();
  if (mode === "hold") { compose.append(composeForm(conv, "reply")); }
  if (mode === "message") { compose.append(composeForm(conv, "answer")); }
}

function composeForm(conv, kind) {
  const reply = kind === "reply";
  const textarea = el("textarea", { id: `${kind}-text`, rows: reply ? "4" : "6",
    "aria-describedby": `${kind}-hint ${kind}-error`, value: conv.drafts[kind] });
  const error = el("p", { id: `${kind}-error`, class: "field-error", role: "alert" });
  const label = reply ? "send" : "send_answer";
  const submit = el("button", { type: "submit", class: "primary" }, t(label));
  const form = el("form", { class: "compose-form", novalidate: true, "aria-labelledby": `${kind}-heading` },
    el("h3", { id: `${kind}-heading` }, t(reply ? "reply_heading" : "answer_heading")),
    el("div", { class: "field" },
      el("label", { for: textarea.id }, t(reply ? "reply_label" : "answer_label")),
      el("p", { id: `${kind}-hint`, class: "hint" }, t(reply ? "reply_hint" : "answer_hint")),
      textarea, error),
    el("div", { class: "form-buttons" }, submit));
  textarea.addEventListener("input", () => {
    conv.drafts[kind] = textarea.value;
    if (reply) { maybeSendTyping(conv, textarea.value); }
  });
  if (reply) {
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sendCompose(conv, kind, { textarea, submit, error, label });
  });
  return form;
}

function maybeSendTyping(conv, text) {
  if (!text || !isMine(conv.entry)) { return; }
  const now = Date.now();
  if (now - conv.typingSentAt < TYPING_SEND_MS) { return; }
  conv.typingSentAt = now;
  sendFrame({ type: "typing", conversation: conv.id });
}

async function sendCompose(conv, kind, { textarea, submit, error, label }) {
  if (conv.sending) { return; }
  const text = textarea.value.trim();
  error.textContent = "";
  textarea.removeAttribute("aria-invalid");
  if (!text) { error.textContent = t("empty_text"); textarea.setAttribute("aria-invalid", "true"); textarea.focus(); return; }
  conv.sending = true;
  submit.disabled = true;
  submit.textContent = t("sending");
  textarea.readOnly = true;
  let done = false;
  try {
    const data = await api("POST", `/conversations/${enc(conv.id)}/${kind}`, { text });
    if (data.message) { addLiveMessage(conv, data.message, true); }
    textarea.value = "";
    conv.drafts[kind] = "";
    done = true;
  } catch (failure) {
    error.textContent = errorText(failure);
    textarea.setAttribute("aria-invalid", "true");
  } finally {
    conv.sending = false;
    submit.disabled = false;
    submit.textContent = t(label);
    textarea.readOnly = false;
  }
  if (done && kind === "answer") {
    state.drafts.delete(conv.id);
    go("inbox", null, t("answer_sent"));
    return;
  }
  if (textarea.isConnected) { textarea.focus(); }
}

function renderSide(conv, mode) {
  const side = conv.dom.side;
  side.replaceChildren();
  if (mode === "hold") { side.append(cannedSection(conv, "reply-text")); }
  if (mode === "message") { side.append(cannedSection(conv, "answer-text")); }
  if (conv.removedWhy !== "purged") { side.append(noteSection(conv)); }
}

function cannedSection(conv, targetId) {
  const filter = el("input", { type: "search", id: "canned-filter", autocomplete: "off",
    "aria-describedby": "canned-hint", "aria-controls": "canned-list", value: conv.drafts.canned });
  const status = el("p", { class: "hint", id: "canned-status", "aria-live": "polite" });
  const list = el("ul", { class: "canned-list", id: "canned-list", "aria-labelledby": "canned-heading" });
  const draw = () => renderCannedList(conv, list, status, filter.value, targetId);
  filter.addEventListener("input", () => { conv.drafts.canned = filter.value; draw(); });
  filter.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); }   // no form to submit; keep the page still
  });
  if (conv.canned) {
    draw();
  } else {
    status.textContent = t("loading");
    loadCanned(conv).then(() => { if (list.isConnected) { draw(); } },
      (error) => { if (status.isConnected) { status.textContent = errorText(error); } });
  }
  return el("section", { class: "panel canned", "aria-labelledby": "canned-heading" },
    el("h3", { id: "canned-heading" }, t("canned_heading")),
    el("div", { class: "field" },
      el("label", { for: "canned-filter" }, t("canned_filter")),
      el("p", { class: "hint", id: "canned-hint" }, t("canned_hint")),
      filter),
    status, list);
}

async function loadCanned(conv) {
  const entry = conv.entry || {};
  const params = new URLSearchParams({ language: entry.language || state.language });
  if (entry.topic) { params.set("topic", entry.topic); }
  const data = await api("GET", `/canned?${params}`);
  conv.canned = Array.isArray(data.responses) ? data.responses : [];
}

function preview(text) {
  const flat = String(text || "").replace(/\s+/g, " ").trim();
  return flat.length > 110 ? `${flat.slice(0, 109)}…` : flat;
}

function renderCannedList(conv, list, status, query, targetId) {
  const needle = query.trim().toLocaleLowerCase();
  const matches = conv.canned.filter((response) => !needle
    || `${response.title || ""} ${response.text || ""}`.toLocaleLowerCase().includes(needle));
  list.replaceChildren(...matches.map((response) => el("li", {},
    button([el("span", { class: "canned-title" }, String(response.title || "")),
      el("span", { class: "canned-preview" }, preview(response.text))],
    () => insertText(targetId, String(response.text || "")), { class: "canned-item" }))));
  status.textContent = matches.length ? t("canned_count", { n: matches.length }) : t("canned_none");
}

/** Inserts text at the cursor of the textarea, for editing, and returns focus there. */
function insertText(targetId, text) {
  const textarea = document.getElementById(targetId);
  if (!textarea) { return; }
  const start = typeof textarea.selectionStart === "number" ? textarea.selectionStart : textarea.value.length;
  const end = typeof textarea.selectionEnd === "number" ? textarea.selectionEnd : start;
  textarea.focus();
  textarea.setRangeText(text, start, end, "end");
  textarea.dispatchEvent(new Event("input", { bubbles: true }));
  announce(t("canned_inserted"), false);
}

function noteSection(conv) {
  const textarea = el("textarea", { id: "note-text", rows: "3", "aria-describedby": "note-hint note-error", value: conv.drafts.note });
  const error = el("p", { id: "note-error", class: "field-error", role: "alert" });
  const submit = el("button", { type: "submit" }, t("add_note"));
  const form = el("form", { class: "note-form", novalidate: true },
    el("div", { class: "field" },
      el("label", { for: "note-text" }, t("note_field")),
      el("p", { class: "hint", id: "note-hint" }, t("note_hint")),
      textarea, error),
    el("div", { class: "form-buttons" }, submit));
  let busy = false;
  textarea.addEventListener("input", () => { conv.drafts.note = textarea.value; });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) { return; }
    const text = textarea.value.trim();
    error.textContent = "";
    if (!text) { error.textContent = t("empty_text"); textarea.focus(); return; }
    busy = true;
    submit.disabled = true;
    try {
      const data = await api("POST", `/conversations/${enc(conv.id)}/note`, { text });
      if (data.note) { addLiveNote(conv, data.note, true); }
      textarea.value = "";
      conv.drafts.note = "";
      announce(t("note_added"), false);
    } catch (failure) {
      error.textContent = errorText(failure);
    } finally {
      busy = false;
      submit.disabled = false;
    }
  });
  return el("section", { class: "panel notes", "aria-labelledby": "notes-heading" },
    el("h3", { id: "notes-heading" }, t("notes_heading")), form);
}

// =============================================================================================
// Dialogs and form fields
// =============================================================================================

/**
 * A modal <dialog> holding a form. onSubmit(form) may return false (stay open, e.g. a field
 * error was shown), a function (run after closing and restoring focus) or nothing.
 */
function openDialog({ title, body, submitLabel, onSubmit, opener, danger }) {
  const titleId = uid("dialog-title");
  const error = el("p", { class: "form-error", role: "alert" });
  const submit = el("button", { type: "submit", class: danger ? "danger" : "primary" }, submitLabel);
  const cancel = el("button", { type: "button", class: "secondary" }, t("cancel"));
  const form = el("form", { class: "dialog-form", novalidate: true },
    el("h2", { id: titleId }, title), body, error, el("div", { class: "form-buttons" }, submit, cancel));
  const dialog = el("dialog", { class: "dialog", "aria-labelledby": titleId }, form);
  let after = null;
  let busy = false;
  cancel.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (opener && opener.isConnected) { opener.focus(); } else { focusHeading(); }
    if (after) { after(); }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) { return; }
    error.textContent = "";
    clearFieldErrors(form);
    busy = true;
    submit.setAttribute("aria-disabled", "true");
    try {
      const result = await onSubmit(form);
      if (result === false) { return; }
      after = typeof result === "function" ? result : null;
      if (dialog.open) { dialog.close(); }
    } catch (failure) {
      error.textContent = failure instanceof Error && failure.userMessage ? failure.userMessage : errorText(failure);
    } finally {
      busy = false;
      submit.removeAttribute("aria-disabled");
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  const first = form.querySelector("[autofocus]")
    || form.querySelector("input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea");
  (first || submit).focus();
  return dialog;
}

/** A labelled field: label, optional hint, the control, and a place for its error. */
function formField({ name, label, input, hint }) {
  const id = input.id || uid(`field-${name}`);
  input.id = id;
  if (!input.name) { input.name = name; }
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  input.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  return el("div", { class: "field", "data-field": name },
    el("label", { for: id }, label),
    hint ? el("p", { class: "hint", id: hintId }, hint) : null,
    input,
    el("p", { class: "field-error", id: errorId }));
}

/** A radio button or checkbox with its label. */
function choice(type, name, value, label, checked) {
  const id = uid(`${name}-${token(value)}`);
  const input = el("input", { type, name, value, id, checked: Boolean(checked) });
  return { input, wrap: el("div", { class: "choice" }, input, el("label", { for: id }, label)) };
}

/** A fieldset of choices, with a legend and a place for its error. */
function choiceGroup({ name, legend, items, type }) {
  const errorId = uid(`${name}-error`);
  const fieldset = el("fieldset", { class: "field choices", "data-field": name, "aria-describedby": errorId },
    el("legend", {}, legend));
  const choices = items.map((item) => choice(type, name, item.value, item.label, item.checked));
  choices.forEach((item) => fieldset.append(item.wrap));
  fieldset.append(el("p", { class: "field-error", id: errorId }));
  return { fieldset, choices };
}

function setFieldError(form, name, text) {
  const wrapper = Array.from(form.querySelectorAll("[data-field]")).find((node) => node.dataset.field === name);
  if (!wrapper || wrapper.hidden) { return false; }
  wrapper.querySelector(".field-error").textContent = text;
  const control = wrapper.querySelector("input, select, textarea");
  if (control) { control.setAttribute("aria-invalid", "true"); control.focus(); }
  return true;
}

function clearFieldErrors(form) {
  form.querySelectorAll(".field-error").forEach((node) => { node.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
}

function fieldErrorText(field) {
  if (field === "password" || field === "new") { return t("err_password_rules"); }
  if (field === "capacity") { return t("err_capacity"); }
  return t("err_field_invalid");
}

/** Shows a server refusal next to its field; false when it is not about a field on this form. */
function showFieldError(form, error) {
  if (!(error instanceof ApiError)) { return false; }
  if (error.code === "bad_request" && error.data.field) {
    return setFieldError(form, String(error.data.field), fieldErrorText(String(error.data.field)));
  }
  if (error.code === "exists") { return setFieldError(form, "name", t("err_exists")); }
  if (error.code === "invalid_credentials") { return setFieldError(form, "current", t("err_wrong_current")); }
  if (error.code === "too_long") { return setFieldError(form, String(error.data.field || "note"), t("err_too_long")); }
  return false;
}

function optionalNoteField(name, label) {
  const input = el("textarea", { rows: "3" });
  return { input, field: formField({ name, label, input }) };
}

// --- transfer, return to bot, close -------------------------------------------------------------

async function openTransferDialog(conv, opener) {
  let teams;
  let advisors;
  try {
    const [teamData, advisorData] = await Promise.all([api("GET", "/teams"), api("GET", "/advisors")]);
    teams = Array.isArray(teamData.teams) ? teamData.teams : [];
    advisors = Array.isArray(advisorData.advisors) ? advisorData.advisors : [];
  } catch (error) {
    flash(errorText(error), "error");
    return;
  }
  mergeTeams(teams);
  advisors = advisors.filter((advisor) => !state.advisor || advisor.id !== state.advisor.id);
  const target = choiceGroup({ name: "target", legend: t("transfer_to"), type: "radio", items: [
    { value: "team", label: t("to_team"), checked: true },
    { value: "advisor", label: t("to_advisor") }
  ] });
  const teamSelect = el("select", {}, el("option", { value: "" }, t("choose")),
    teams.map((team) => el("option", { value: team.id }, t("team_option", {
      name: teamName(team.id),
      open: team.open ? t("team_open") : t("team_closed"),
      online: t("team_online", { n: team.online || 0 }),
      waiting: t("team_waiting", { n: team.waiting || 0 })
    }))));
  const advisorSelect = el("select", {}, el("option", { value: "" }, t("choose")),
    advisors.map((advisor) => {
      const holding = Number(advisor.holding) || 0;
      const capacity = Number(advisor.capacity) || 0;
      const full = capacity > 0 && holding >= capacity;
      const stateText = !advisor.online ? t("advisor_offline") : (full ? t("advisor_full") : t("advisor_online"));
      return el("option", { value: String(advisor.id), disabled: !advisor.online || full },
        t("advisor_option", { name: advisor.display_name || String(advisor.id), state: stateText, holding, capacity }));
    }));
  const teamField = formField({ name: "team", label: t("team_label"), input: teamSelect });
  const advisorField = formField({ name: "advisor", label: t("advisor_label"), input: advisorSelect, hint: t("advisor_hint") });
  advisorField.hidden = true;
  const note = optionalNoteField("note", t("transfer_note"));
  const [toTeam] = target.choices;
  target.choices.forEach((item) => item.input.addEventListener("change", () => {
    teamField.hidden = !toTeam.input.checked;
    advisorField.hidden = toTeam.input.checked;
  }));
  openDialog({
    title: t("transfer_title"),
    submitLabel: t("transfer_confirm"),
    opener,
    body: [target.fieldset, teamField, advisorField, note.field],
    onSubmit: async (form) => {
      const body = {};
      let targetName;
      if (toTeam.input.checked) {
        if (!teamSelect.value) { setFieldError(form, "team", t("choose_team")); return false; }
        body.team = teamSelect.value;
        targetName = teamName(body.team);
      } else {
        const advisor = advisors.find((candidate) => String(candidate.id) === advisorSelect.value);
        if (!advisor) { setFieldError(form, "advisor", t("choose_advisor")); return false; }
        body.advisor = advisor.id;
        targetName = advisor.display_name || String(advisor.id);
      }
      const text = note.input.value.trim();
      if (text) { body.note = text; }
      try {
        await api("POST", `/conversations/${enc(conv.id)}/transfer`, body);
      } catch (error) {
        if (showFieldError(form, error)) { return false; }
        error.userMessage = errorText(error, "transfer");
        throw error;
      }
      state.drafts.delete(conv.id);
      return () => go("queue", null, t("transferred_ok", { target: targetName }));
    }
  });
}

function openReleaseDialog(conv, opener) {
  const note = optionalNoteField("note", t("release_note"));
  openDialog({
    title: t("release_title"),
    submitLabel: t("release_confirm"),
    opener,
    body: [el("p", {}, t("release_text")), note.field],
    onSubmit: async (form) => {
      const text = note.input.value.trim();
      try {
        await api("POST", `/conversations/${enc(conv.id)}/release`, text ? { note: text } : {});
      } catch (error) {
        if (showFieldError(form, error)) { return false; }
        throw error;
      }
      state.drafts.delete(conv.id);
      return () => go("queue", null, t("released_ok"));
    }
  });
}

function openCloseDialog(conv, opener) {
  const outcomes = state.outcomes.length ? state.outcomes : OUTCOMES;
  const group = choiceGroup({ name: "outcome", legend: t("outcome_legend"), type: "radio",
    items: outcomes.map((outcome) => ({ value: outcome, label: outcomeName(outcome) })) });
  const service = el("input", { type: "text", autocomplete: "off" });
  const serviceField = formField({ name: "service", label: t("service_label"), input: service });
  serviceField.hidden = true;
  group.choices.forEach((item) => item.input.addEventListener("change", () => {
    const referred = group.fieldset.querySelector("input:checked");
    const show = Boolean(referred && referred.value === "referred");
    serviceField.hidden = !show;
    if (show) { service.setAttribute("required", ""); service.setAttribute("aria-required", "true"); }
    else { service.removeAttribute("required"); service.removeAttribute("aria-required"); }
  }));
  openDialog({
    title: t("close_title"),
    submitLabel: t("close_confirm"),
    opener,
    body: [el("p", {}, t("close_text")), group.fieldset, serviceField],
    onSubmit: async (form) => {
      const chosen = group.fieldset.querySelector("input:checked");
      if (!chosen) { setFieldError(form, "outcome", t("choose_outcome")); return false; }
      const body = { outcome: chosen.value };
      if (chosen.value === "referred") {
        if (!service.value.trim()) { setFieldError(form, "service", t("service_required")); return false; }
        body.service = service.value.trim();
      }
      try {
        await api("POST", `/conversations/${enc(conv.id)}/close`, body);
      } catch (error) {
        if (showFieldError(form, error)) { return false; }
        throw error;
      }
      state.drafts.delete(conv.id);
      return () => go("queue", null, t("closed_ok"));
    }
  });
}

function openPasswordDialog(opener) {
  const currentInput = el("input", { type: "password", autocomplete: "current-password" });
  const newInput = el("input", { type: "password", autocomplete: "new-password" });
  openDialog({
    title: t("password_title"),
    submitLabel: t("change_password"),
    opener,
    body: [el("p", {}, t("password_text")),
      formField({ name: "current", label: t("field_current_password"), input: currentInput }),
      formField({ name: "new", label: t("field_new_password"), input: newInput, hint: t("password_hint") })],
    onSubmit: async (form) => {
      if (!currentInput.value) { setFieldError(form, "current", t("err_required")); return false; }
      if (!passwordAcceptable(newInput.value, state.advisor.name)) {
        setFieldError(form, "new", t("err_password_rules"));
        return false;
      }
      try {
        await api("POST", "/me/password", { current: currentInput.value, new: newInput.value });
      } catch (error) {
        if (showFieldError(form, error)) { return false; }
        throw error;
      }
      return () => flash(t("password_changed"), "success");
    }
  });
}

function passwordAcceptable(password, name) {
  return typeof password === "string" && password.length >= 12 && password !== name;
}

// =============================================================================================
// Users view (admin)
// =============================================================================================

const USER_COLUMNS = ["col_name", "col_display_name", "col_role", "col_teams", "col_capacity",
  "col_active", "col_locked", "col_last_login", "col_actions"];

function drawUsersView(root, { load, seq }) {
  const tableBox = el("div", { id: "users-box" });
  const formBox = el("section", { class: "panel add-user", id: "add-user", "aria-labelledby": "add-user-heading" },
    el("h3", { id: "add-user-heading" }, t("add_user_heading")));
  root.append(viewHeading(t("users_title")), tableBox, formBox);
  if (state.users && state.allTeams) {
    fillUsersTable();
    formBox.append(addUserForm());
  } else {
    tableBox.append(el("p", {}, t("loading")));
  }
  if (load || !state.users) { loadUsers(seq); }
}

async function loadUsers(seq) {
  try {
    const [userData, teamData] = await Promise.all([api("GET", "/users"), api("GET", "/teams")]);
    state.users = Array.isArray(userData.users) ? userData.users : [];
    state.allTeams = Array.isArray(teamData.teams) ? teamData.teams : [];
    mergeTeams(state.allTeams);
  } catch (error) {
    if (seq === undefined || current(seq)) { flash(errorText(error), "error"); }
    return;
  }
  if (!state.route || state.route.name !== "users") { return; }
  fillUsersTable();
  const formBox = document.getElementById("add-user");
  if (formBox && !formBox.querySelector("form")) { formBox.append(addUserForm()); }
}

function fillUsersTable() {
  const box = document.getElementById("users-box");
  if (!box) { return; }
  rebuildKeepingFocus(box, () => {
    box.replaceChildren();
    if (!state.users.length) { box.append(el("p", { class: "empty" }, t("users_empty"))); return; }
    const tbody = el("tbody", {}, state.users.map(userRow));
    box.append(tableWrap("users_caption", USER_COLUMNS, tbody));
  });
}

function isLocked(user) {
  const until = parseTime(user.locked_until);
  return until !== null && until > Date.now();
}

function userRow(user) {
  const self = state.advisor && user.id === state.advisor.id;
  const name = user.display_name || user.name;
  const actions = el("td", { class: "actions" },
    button([t("edit"), visuallyHidden(`: ${name}`)], (event) => openUserDialog(user, event.currentTarget), { "data-action": "edit" }), " ",
    button([t("reset_password"), visuallyHidden(`: ${name}`)], (event) => openResetDialog(user, event.currentTarget),
      { "data-action": "reset", class: "secondary" }));
  if (isLocked(user)) {
    actions.append(" ", button([t("unlock"), visuallyHidden(`: ${name}`)], () => unlockUser(user), { "data-action": "unlock" }));
  }
  return el("tr", { "data-key": String(user.id), class: user.active === false ? "row--inactive" : null },
    el("td", {}, String(user.name || ""), self ? ` ${t("self_suffix")}` : ""),
    el("td", {}, String(user.display_name || "")),
    el("td", {}, roleName(user.role)),
    el("td", {}, Array.isArray(user.teams) && user.teams.length ? user.teams.map(teamName).join(", ") : t("none")),
    el("td", {}, user.role === "editor" ? t("none") : String(user.capacity ?? t("none"))),
    el("td", {}, user.active === false ? t("no") : t("yes")),
    el("td", {}, isLocked(user) ? t("locked_until", { time: formatDateTime(user.locked_until) }) : t("none")),
    el("td", {}, user.last_login_at ? formatDateTime(user.last_login_at) : t("never")),
    actions);
}

function roleSelect(selected) {
  return el("select", { value: selected },
    ROLES.map((role) => el("option", { value: role }, roleName(role))));
}

function teamChoices(selected) {
  const teams = state.allTeams || Array.from(state.teams.values());
  const group = choiceGroup({ name: "teams", legend: t("field_teams"), type: "checkbox",
    items: teams.map((team) => ({ value: team.id, label: teamName(team.id), checked: selected.includes(team.id) })) });
  if (!teams.length) { group.fieldset.insertBefore(el("p", { class: "hint" }, t("no_teams")), group.fieldset.lastChild); }
  return group;
}

function checkedValues(group) {
  return group.choices.filter((item) => item.input.checked).map((item) => item.input.value);
}

function capacityInput(value) {
  return el("input", { type: "number", min: "1", max: "20", step: "1", inputmode: "numeric", value: String(value) });
}

/** Checks a user's fields before sending; returns [field, message] or null. */
function userProblem(body, isNew) {
  if (isNew && !body.name) { return ["name", t("err_required")]; }
  if (body.display_name !== undefined && !body.display_name) { return ["display_name", t("err_required")]; }
  if (body.capacity !== undefined && !(Number.isInteger(body.capacity) && body.capacity >= 1 && body.capacity <= 20)) {
    return ["capacity", t("err_capacity")];
  }
  if (isNew && !passwordAcceptable(body.password, body.name)) { return ["password", t("err_password_rules")]; }
  return null;
}

function addUserForm() {
  const name = el("input", { type: "text", autocomplete: "off", autocapitalize: "none", spellcheck: "false" });
  const display = el("input", { type: "text", autocomplete: "off" });
  const role = roleSelect("advisor");
  const teams = teamChoices([]);
  const capacity = capacityInput(3);
  const password = el("input", { type: "password", autocomplete: "new-password" });
  const error = el("p", { class: "form-error", role: "alert" });
  const form = el("form", { class: "user-form", novalidate: true },
    formField({ name: "name", label: t("field_name"), input: name }),
    formField({ name: "display_name", label: t("field_display_name"), input: display }),
    formField({ name: "role", label: t("field_role"), input: role }),
    teams.fieldset,
    formField({ name: "capacity", label: t("field_capacity"), input: capacity }),
    formField({ name: "password", label: t("field_password"), input: password, hint: t("password_hint") }),
    error,
    el("div", { class: "form-buttons" }, el("button", { type: "submit", class: "primary" }, t("add_user"))));
  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) { return; }
    clearFieldErrors(form);
    error.textContent = "";
    const body = { name: name.value.trim(), display_name: display.value.trim(), role: role.value,
      teams: checkedValues(teams), capacity: Number(capacity.value), password: password.value };
    const problem = userProblem(body, true);
    if (problem) { setFieldError(form, problem[0], problem[1]); return; }
    busy = true;
    try {
      await api("POST", "/users", body);
      form.reset();
      flash(t("user_added", { name: body.display_name }), "success");
      name.focus();
      loadUsers();
    } catch (failure) {
      if (!showFieldError(form, failure)) { error.textContent = errorText(failure); }
    } finally {
      busy = false;
    }
  });
  return form;
}

function openUserDialog(user, opener) {
  const display = el("input", { type: "text", autocomplete: "off", value: user.display_name || "" });
  const role = roleSelect(user.role);
  const teams = teamChoices(Array.isArray(user.teams) ? user.teams : []);
  const capacity = capacityInput(user.capacity ?? 3);
  const active = choice("checkbox", "active", "1", t("field_active"), user.active !== false);
  const activeHintId = uid("active-hint");
  active.input.setAttribute("aria-describedby", activeHintId);
  const activeField = el("div", { class: "field", "data-field": "active" }, active.wrap,
    el("p", { class: "hint", id: activeHintId }, t("field_active_hint")), el("p", { class: "field-error" }));
  openDialog({
    title: t("edit_user_title", { name: user.display_name || user.name }),
    submitLabel: t("save"),
    opener,
    body: [formField({ name: "display_name", label: t("field_display_name"), input: display }),
      formField({ name: "role", label: t("field_role"), input: role }),
      teams.fieldset,
      formField({ name: "capacity", label: t("field_capacity"), input: capacity }),
      activeField],
    onSubmit: async (form) => {
      const body = { display_name: display.value.trim(), role: role.value, teams: checkedValues(teams),
        capacity: Number(capacity.value), active: active.input.checked };
      const problem = userProblem(body, false);
      if (problem) { setFieldError(form, problem[0], problem[1]); return false; }
      try {
        await api("PATCH", `/users/${enc(user.id)}`, body);
      } catch (error) {
        if (showFieldError(form, error)) { return false; }
        throw error;
      }
      return () => { flash(t("user_saved", { name: body.display_name }), "success"); loadUsers(); };
    }
  });
}

function openResetDialog(user, opener) {
  const password = el("input", { type: "password", autocomplete: "new-password" });
  openDialog({
    title: t("reset_title", { name: user.display_name || user.name }),
    submitLabel: t("save"),
    opener,
    body: [el("p", {}, t("reset_text")),
      formField({ name: "password", label: t("field_new_password"), input: password, hint: t("password_hint") })],
    onSubmit: async (form) => {
      if (!passwordAcceptable(password.value, user.name)) { setFieldError(form, "password", t("err_password_rules")); return false; }
      try {
        await api("PATCH", `/users/${enc(user.id)}`, { password: password.value });
      } catch (error) {
        if (showFieldError(form, error)) { return false; }
        throw error;
      }
      return () => { flash(t("password_reset_done", { name: user.display_name || user.name }), "success"); loadUsers(); };
    }
  });
}

async function unlockUser(user) {
  try {
    await api("PATCH", `/users/${enc(user.id)}`, { unlock: true });
    flash(t("user_unlocked", { name: user.display_name || user.name }), "success");
    loadUsers();
  } catch (error) {
    flash(errorText(error), "error");
  }
}

// =============================================================================================
// Audit view (admin)
// =============================================================================================

const AUDIT_COLUMNS = ["col_time", "col_advisor", "col_action", "col_conversation", "col_details"];

function drawAuditView(root, { load }) {
  const audit = state.audit;
  const advisorSelect = el("select", { id: "audit-advisor" });
  const conversationInput = el("input", { type: "text", id: "audit-conversation", autocomplete: "off",
    spellcheck: "false", value: audit.conversation });
  const form = el("form", { class: "filters", role: "search", "aria-label": t("audit_filters"), novalidate: true },
    formField({ name: "advisor", label: t("filter_advisor"), input: advisorSelect }),
    formField({ name: "conversation", label: t("filter_conversation"), input: conversationInput }),
    el("div", { class: "form-buttons" },
      el("button", { type: "submit", class: "primary" }, t("filter_apply")),
      button(t("filter_clear"), () => {
        advisorSelect.value = "";
        conversationInput.value = "";
        form.requestSubmit();
      }, { class: "secondary" })));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    audit.advisor = advisorSelect.value;
    audit.conversation = conversationInput.value.trim();
    loadAudit(false);
  });
  const box = el("div", { id: "audit-box", tabindex: "-1" });
  const more = button(t("load_more"), () => loadAudit(true), { id: "audit-more", hidden: true });
  const status = el("p", { class: "visually-hidden", id: "audit-status", role: "status" });
  root.append(viewHeading(t("audit_title")), form, box, el("div", { class: "form-buttons" }, more), status);
  fillAdvisorOptions(advisorSelect);
  if (!state.users) {
    api("GET", "/users").then((data) => {
      state.users = Array.isArray(data.users) ? data.users : [];
      if (advisorSelect.isConnected) { fillAdvisorOptions(advisorSelect); }
    }).catch(() => { /* the select then offers "all" only */ });
  }
  if (load) { loadAudit(false); } else { fillAudit(); }
}

function fillAdvisorOptions(select) {
  const users = state.users || [];
  select.replaceChildren(el("option", { value: "" }, t("all_advisors")),
    users.map((user) => el("option", { value: String(user.id) }, `${user.display_name || user.name} (${user.name})`)));
  select.value = state.audit.advisor;
  if (select.value !== state.audit.advisor) {
    select.append(el("option", { value: state.audit.advisor }, state.audit.advisor));
    select.value = state.audit.advisor;
  }
}

async function loadAudit(append) {
  const audit = state.audit;
  const params = new URLSearchParams({ limit: String(AUDIT_PAGE) });
  if (append && audit.entries.length) { params.set("before", String(audit.entries[audit.entries.length - 1].id)); }
  if (audit.advisor) { params.set("advisor", audit.advisor); }
  if (audit.conversation) { params.set("conversation", audit.conversation); }
  let data;
  try {
    data = await api("GET", `/audit?${params}`);
  } catch (error) {
    flash(errorText(error), "error");
    return;
  }
  const entries = Array.isArray(data.entries) ? data.entries : [];
  audit.entries = append ? audit.entries.concat(entries) : entries;
  audit.more = Boolean(data.more);
  if (!state.route || state.route.name !== "audit") { return; }
  fillAudit();
  const status = document.getElementById("audit-status");
  if (append && status) {
    status.textContent = `${t("audit_loaded", { n: entries.length })}${audit.more ? "" : ` ${t("audit_no_more")}`}`;
  }
}

function fillAudit() {
  const box = document.getElementById("audit-box");
  const more = document.getElementById("audit-more");
  if (!box) { return; }
  const moreHadFocus = document.activeElement === more;
  box.replaceChildren();
  const audit = state.audit;
  if (!audit.entries.length) {
    box.append(el("p", { class: "empty" }, t("audit_empty")));
  } else {
    box.append(tableWrap("audit_caption", AUDIT_COLUMNS, el("tbody", {}, audit.entries.map(auditRow))));
  }
  more.hidden = !audit.more;
  if (moreHadFocus && more.hidden) { box.focus(); }
}

function formatDetails(details) {
  if (details === null || details === undefined) { return ""; }
  if (typeof details !== "object") { return String(details); }
  return Object.entries(details)
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
}

function auditRow(entry) {
  const conversation = entry.conversation ? String(entry.conversation) : "";
  const short = conversation.slice(0, 8);
  return el("tr", {},
    el("td", {}, timeElement(entry.at, formatDateTime(entry.at))),
    el("td", {}, entry.advisor ? String(entry.advisor.display_name || entry.advisor.id) : t("system")),
    el("td", {}, actionName(entry.action)),
    el("td", {}, conversation
      ? button(el("code", { title: conversation }, short), () => filterAuditByConversation(conversation),
        { class: "link-button", "aria-label": t("filter_by_conversation", { id: short }) })
      : t("none")),
    el("td", { class: "details" }, formatDetails(entry.details)));
}

function filterAuditByConversation(conversation) {
  state.audit.conversation = conversation;
  const input = document.getElementById("audit-conversation");
  if (input) { input.value = conversation; }
  loadAudit(false).then(() => focusHeading());
}

// =============================================================================================
// Content view (editor, admin)
// =============================================================================================

const PROBLEM_COLUMNS = ["col_severity", "col_where", "col_message"];

function drawContentView(root, { load, seq }) {
  const box = el("div", { id: "content-box" });
  root.append(viewHeading(t("content_title")), box);
  if (state.content) { fillContent(); } else { box.append(el("p", {}, t("loading"))); }
  if (load || !state.content) { loadContent(seq); }
}

async function loadContent(seq) {
  try {
    state.content = await api("GET", "/content");
  } catch (error) {
    if (current(seq)) { flash(errorText(error), "error"); }
    return;
  }
  if (state.route && state.route.name === "content") { fillContent(); }
}

function countText(value) {
  if (typeof value === "number") { return formatNumber(value); }
  if (Array.isArray(value)) { return formatNumber(value.length); }
  if (value && typeof value === "object") { return formatDetails(value); }
  return value === undefined || value === null ? t("none") : String(value);
}

function fillContent() {
  const box = document.getElementById("content-box");
  if (!box) { return; }
  const content = state.content || {};
  const problems = Array.isArray(content.problems) ? content.problems : [];
  const counts = el("dl", { class: "summary counts" },
    ["intents", "examples", "canned"].map((key) => el("div", { class: "summary-item" },
      el("dt", {}, t("count_" + key)), el("dd", {}, countText(content[key])))));
  const problemSection = el("section", { "aria-labelledby": "problems-heading" },
    el("h3", { id: "problems-heading" }, t("problems_heading")));
  if (!problems.length) {
    problemSection.append(el("p", { class: "empty" }, t("no_problems")));
  } else {
    problemSection.append(tableWrap("problems_caption", PROBLEM_COLUMNS, el("tbody", {}, problems.map((problem) =>
      el("tr", { class: `severity--${token(problem.severity)}` },
        el("td", {}, el("span", { class: `badge badge--${token(problem.severity)}` }, severityName(problem.severity))),
        el("td", {}, el("code", {}, `${problem.path || ""}${problem.line !== undefined && problem.line !== null ? ":" + problem.line : ""}`)),
        el("td", {}, String(problem.message || ""))))),
    { tabindex: "0", role: "region", "aria-labelledby": "problems-heading" }));
  }
  box.replaceChildren(el("h3", {}, t("content_counts")), counts, problemSection);
}

// =============================================================================================

start();
