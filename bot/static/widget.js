/*
 * Neuvo chat widget. Embed with one tag:
 *   <script src="https://HOST/widget.js" data-lang="fi" defer></script>
 * No build step, no dependencies. Protocol: docs/widget-protocol.md.
 * Everything a person or the server wrote is inserted as text, never as HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__neuvoWidget) { return; }
  window.__neuvoWidget = true;

  var base = new URL(script.src, window.location.href);
  var socketUrl = (base.protocol === "https:" ? "wss://" : "ws://") + base.host + "/ws";
  var STRINGS = {
    fi: {
      launcher: "Kysy sosiaalipalveluista", title: "Neuvo – sosiaalipalvelujen neuvonta",
      close: "Sulje keskusteluikkuna", end: "Lopeta keskustelu", language: "Kieli", log: "Keskustelu",
      input: "Kirjoita viestisi", send: "Lähetä", you: "Sinä", bot: "Neuvo", advisor: "Neuvoja", system: "Ilmoitus",
      typing: "Neuvo kirjoittaa…", connecting: "Yhdistetään…", offline: "Yhteys katkesi. Yritetään uudelleen…",
      pending: "lähetetään", failed: "ei lähetetty", accessibility: "Saavutettavuusseloste",
      replies: "Vastausvaihtoehdot", hint: "Älä kirjoita henkilötietoja. Hätätilanteessa soita 112.",
      advisorTyping: "Neuvoja kirjoittaa…", answerLink: "Hae vastaus viitekoodilla"
    },
    sv: {
      launcher: "Fråga om socialtjänster", title: "Neuvo – rådgivning om socialtjänster",
      close: "Stäng chattfönstret", end: "Avsluta samtalet", language: "Språk", log: "Samtal",
      input: "Skriv ditt meddelande", send: "Skicka", you: "Du", bot: "Neuvo", advisor: "Rådgivare", system: "Meddelande",
      typing: "Neuvo skriver…", connecting: "Ansluter…", offline: "Anslutningen bröts. Försöker igen…",
      pending: "skickas", failed: "inte skickat", accessibility: "Tillgänglighetsutlåtande",
      replies: "Svarsalternativ", hint: "Skriv inte personuppgifter. Ring 112 i nödsituationer.",
      advisorTyping: "Rådgivaren skriver…", answerLink: "Hämta svar med referenskod"
    },
    en: {
      launcher: "Ask about social services", title: "Neuvo – social services advice",
      close: "Close the chat window", end: "End chat", language: "Language", log: "Conversation",
      input: "Write your message", send: "Send", you: "You", bot: "Neuvo", advisor: "Advisor", system: "Notice",
      typing: "Neuvo is typing…", connecting: "Connecting…", offline: "Connection lost. Trying again…",
      pending: "sending", failed: "not sent", accessibility: "Accessibility statement",
      replies: "Reply options", hint: "Do not write personal data. In an emergency call 112.",
      advisorTyping: "The advisor is typing…", answerLink: "Find an answer by reference code"
    }
  };
  var LANGUAGES = ["fi", "sv", "en"];
  var language = pickLanguage(script.getAttribute("data-lang") || document.documentElement.lang || "fi");
  var PREFIX = "neuvo:" + base.host + ":";

  function pickLanguage(value) {
    value = String(value || "").slice(0, 2).toLowerCase();
    return LANGUAGES.indexOf(value) >= 0 ? value : "fi";
  }
  function t(key) { return STRINGS[language][key]; }

  // --- storage that survives a reload (and tolerates blocked storage) ----------------------
  function load(key, fallback, session) {
    try {
      var value = (session ? window.sessionStorage : window.localStorage).getItem(PREFIX + key);
      return value === null ? fallback : JSON.parse(value);
    } catch (error) { return fallback; }
  }
  function save(key, value, session) {
    try { (session ? window.sessionStorage : window.localStorage).setItem(PREFIX + key, JSON.stringify(value)); }
    catch (error) { /* private mode: the widget still works for this page */ }
  }
  function forget(key) {
    try { window.localStorage.removeItem(PREFIX + key); } catch (error) { /* ignore */ }
  }

  var token = load("token", null);
  var outbox = load("outbox", []);
  var lastSeq = 0;
  var socket = null;
  var connected = false;
  var retryDelay = 1000;
  var retryTimer = null;
  var bySeq = {};
  var byId = {};
  var storedIds = {};
  // Who answers now: "bot", or a person ("queued", "assigned"); from the status frame ending each batch.
  var mode = "bot";
  var queueText = "";
  var typingTimer = null;
  var lastTypingSent = 0;

  // --- the interface, in a shadow root so the host page's styles cannot break it -----------
  var host = document.createElement("div");
  host.setAttribute("data-neuvo-widget", "");
  var root = host.attachShadow({ mode: "open" });
  var style = document.createElement("style");
  style.textContent = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif}",
    ".launcher{position:fixed;right:16px;bottom:16px;z-index:2147483000;display:flex;align-items:center;gap:8px;",
    "padding:12px 18px;border:2px solid #0b4f94;border-radius:28px;background:#0b4f94;color:#fff;font-size:16px;",
    "font-weight:600;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.3)}",
    ".launcher:hover{background:#083d73}",
    "button:focus-visible,select:focus-visible,textarea:focus-visible,a:focus-visible,.log:focus-visible{",
    "outline:3px solid #ffbf47;outline-offset:2px}",
    ".panel{position:fixed;right:16px;bottom:16px;z-index:2147483001;width:min(400px,calc(100vw - 32px));",
    "height:min(620px,calc(100vh - 32px));display:flex;flex-direction:column;background:#fff;color:#1a1a1a;",
    "border:1px solid #6b6b6b;border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.35);overflow:hidden}",
    ".panel[hidden]{display:none}",
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100%;border-radius:0}}",
    "header{display:flex;flex-wrap:wrap;align-items:center;gap:6px;padding:8px 10px;background:#0b4f94;color:#fff}",
    "h2{flex:1 1 150px;margin:0;font-size:16px;line-height:1.3}",
    "header select,header button{font-size:14px;padding:6px 8px;border-radius:6px;border:1px solid #fff;",
    "background:#0b4f94;color:#fff;cursor:pointer}",
    "header label{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#fff}",
    ".msg{max-width:88%;padding:8px 12px;border-radius:10px;white-space:pre-wrap;overflow-wrap:anywhere;",
    "font-size:15px;line-height:1.45}",
    ".msg a{color:inherit;text-decoration:underline}",
    ".msg--citizen{align-self:flex-end;background:#0b4f94;color:#fff}",
    ".msg--bot,.msg--advisor{align-self:flex-start;background:#eef1f4;color:#1a1a1a}",
    ".msg--advisor{border-left:4px solid #0b4f94}",
    ".msg--advisor .who{position:static;width:auto;height:auto;clip:auto;display:block;font-size:12px;",
    "font-weight:700;margin-bottom:2px}",
    ".msg--system{align-self:stretch;background:#fff8e1;color:#1a1a1a;border:1px solid #c7a100;font-size:14px}",
    ".msg--crisis{align-self:stretch;background:#fdecea;color:#1a1a1a;border:2px solid #b00020;font-weight:600}",
    ".who{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    ".state{display:block;font-size:12px;margin-top:2px;opacity:.9}",
    ".replies{display:flex;flex-wrap:wrap;gap:6px;align-self:flex-start;max-width:100%}",
    ".replies button{font-size:14px;padding:7px 12px;border-radius:16px;border:2px solid #0b4f94;background:#fff;",
    "color:#0b4f94;cursor:pointer;text-align:left}",
    ".replies button:hover{background:#e6eef7}",
    ".status{min-height:20px;padding:0 12px;font-size:13px;color:#3d3d3d}",
    "form{display:flex;gap:6px;padding:8px 10px;border-top:1px solid #c9c9c9;align-items:flex-end}",
    "form label{display:block;font-size:13px;color:#3d3d3d;margin-bottom:2px}",
    ".field{flex:1}",
    "textarea{width:100%;min-height:44px;max-height:120px;resize:vertical;font-size:15px;padding:8px;",
    "border:1px solid #6b6b6b;border-radius:8px;color:#1a1a1a;background:#fff}",
    ".send{padding:10px 14px;font-size:15px;font-weight:600;border-radius:8px;border:2px solid #0b4f94;",
    "background:#0b4f94;color:#fff;cursor:pointer}",
    "footer{display:flex;justify-content:space-between;gap:8px;padding:4px 10px 8px;font-size:12px;color:#3d3d3d}",
    "footer a{color:#0b4f94}",
    "footer .links{display:flex;flex-direction:column;align-items:flex-end;gap:2px}"
  ].join("");
  root.appendChild(style);

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  var launcher = element("button", { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "neuvo-panel" });
  var launcherText = element("span", {}, "");
  launcher.appendChild(element("span", { "aria-hidden": "true" }, "💬"));
  launcher.appendChild(launcherText);

  var panel = element("section", { id: "neuvo-panel", class: "panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "neuvo-title", hidden: "" });
  var header = element("header");
  var title = element("h2", { id: "neuvo-title" });
  var languageLabel = element("label", { for: "neuvo-language" });
  var languageSelect = element("select", { id: "neuvo-language" });
  [["fi", "Suomi"], ["sv", "Svenska"], ["en", "English"]].forEach(function (pair) {
    var option = element("option", { value: pair[0], lang: pair[0] }, pair[1]);
    languageSelect.appendChild(option);
  });
  var endButton = element("button", { type: "button", class: "end" });
  var closeButton = element("button", { type: "button", class: "close" });
  header.appendChild(title);
  header.appendChild(languageLabel);
  header.appendChild(languageSelect);
  header.appendChild(endButton);
  header.appendChild(closeButton);

  var log = element("div", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0" });
  var status = element("div", { class: "status", role: "status" });
  var form = element("form", { novalidate: "" });
  var field = element("div", { class: "field" });
  var inputLabel = element("label", { for: "neuvo-input" });
  var input = element("textarea", { id: "neuvo-input", rows: "2", maxlength: "2000", autocomplete: "off" });
  var sendButton = element("button", { type: "submit", class: "send" });
  field.appendChild(inputLabel);
  field.appendChild(input);
  form.appendChild(field);
  form.appendChild(sendButton);
  var footer = element("footer");
  var hint = element("span");
  var accessibilityLink = element("a", { target: "_blank", rel: "noopener" });
  var answerLink = element("a", { target: "_blank", rel: "noopener" });
  var links = element("span", { class: "links" });
  links.appendChild(answerLink);
  links.appendChild(accessibilityLink);
  footer.appendChild(hint);
  footer.appendChild(links);

  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(status);
  panel.appendChild(form);
  panel.appendChild(footer);
  root.appendChild(launcher);
  root.appendChild(panel);

  function applyLanguage() {
    panel.setAttribute("lang", language);
    launcher.setAttribute("lang", language);
    launcherText.textContent = t("launcher");
    title.textContent = t("title");
    languageLabel.textContent = t("language");
    languageSelect.value = language;
    endButton.textContent = t("end");
    closeButton.textContent = "✕";
    closeButton.setAttribute("aria-label", t("close"));
    log.setAttribute("aria-label", t("log"));
    inputLabel.textContent = t("input");
    sendButton.textContent = t("send");
    hint.textContent = t("hint");
    accessibilityLink.textContent = t("accessibility");
    accessibilityLink.setAttribute("href", base.origin + "/accessibility?lang=" + language + "#" + language);
    answerLink.textContent = t("answerLink");
    answerLink.setAttribute("href", base.origin + "/answer?lang=" + language);
    Object.keys(bySeq).forEach(function (seq) { labelSender(bySeq[seq]); });
  }

  // --- messages ----------------------------------------------------------------------------
  var URL_PATTERN = /(https?:\/\/[^\s<>"')\]]+[^\s<>"'.,;:!?)\]])/g;

  function appendText(node, text) {
    var at = 0;
    String(text).replace(URL_PATTERN, function (url, _match, offset) {
      if (offset > at) { node.appendChild(document.createTextNode(text.slice(at, offset))); }
      var link = element("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url);
      node.appendChild(link);
      at = offset + url.length;
      return url;
    });
    if (at < text.length) { node.appendChild(document.createTextNode(text.slice(at))); }
  }

  function labelSender(node) {
    var who = node.querySelector(".who");
    if (!who) { return; }
    var author = node.getAttribute("data-author");
    var role = t(node.getAttribute("data-sender"));
    who.textContent = author ? author + " (" + role.toLowerCase() + ")" : role + ": ";
  }

  function bubble(sender, kind, text, author) {
    var cssSender = kind === "crisis" ? "crisis" : sender;
    var node = element("div", { class: "msg msg--" + cssSender, "data-sender": sender });
    if (author && sender === "advisor") { node.setAttribute("data-author", author); }
    node.appendChild(element("span", { class: "who" }));
    var body = element("span", { class: "body" });
    appendText(body, text);
    node.appendChild(body);
    labelSender(node);
    return node;
  }

  function setState(node, text) {
    var state = node.querySelector(".state");
    if (!text) { if (state) { state.remove(); } return; }
    if (!state) { state = element("span", { class: "state" }); node.appendChild(state); }
    state.textContent = "(" + text + ")";
  }

  function clearReplies() {
    Array.prototype.forEach.call(log.querySelectorAll(".replies"), function (group) { group.remove(); });
  }

  function showReplies(buttons) {
    clearReplies();
    if (!buttons || !buttons.length) { return; }
    var group = element("div", { class: "replies", role: "group", "aria-label": t("replies") });
    buttons.forEach(function (button) {
      var node = element("button", { type: "button" }, button.label);
      node.addEventListener("click", function () { choose(button); });
      group.appendChild(node);
    });
    log.appendChild(group);
  }

  function render(frame) {
    if (frame.id) { storedIds[frame.id] = true; }
    if (bySeq[frame.seq]) { return; }
    var node = frame.id && byId[frame.id];
    if (node) {
      setState(node, "");
      delete byId[frame.id];
    } else {
      node = bubble(frame.sender, frame.kind, frame.text, frame.author);
      log.appendChild(node);
    }
    node.setAttribute("data-seq", frame.seq);
    bySeq[frame.seq] = node;
    if (frame.seq > lastSeq) { lastSeq = frame.seq; }
    if (frame.sender !== "citizen") { showReplies(frame.buttons); showStatus(); }
    log.scrollTop = log.scrollHeight;
  }

  function renderPending(item) {
    var text = item.frame.type === "message" ? item.frame.text : (item.frame.label || "");
    if (!text || byId[item.frame.id] || storedIds[item.frame.id]) { return; }
    var node = bubble("citizen", "text", text);
    setState(node, t("pending"));
    log.appendChild(node);
    byId[item.frame.id] = node;
    log.scrollTop = log.scrollHeight;
  }

  function showStatus() {
    window.clearTimeout(typingTimer);
    status.textContent = mode === "queued" ? queueText : "";
  }

  // --- sending, with ids so a resend is stored once ------------------------------------------
  function newId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function enqueue(frame, visible) {
    frame.id = newId();
    if (frame.type !== "end" && mode === "bot") { status.textContent = t("typing"); }
    var item = { frame: frame };
    outbox.push(item);
    save("outbox", outbox);
    if (visible) { renderPending(item); }
    transmit(item);
  }

  function transmit(item) {
    if (connected && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(item.frame));
    }
  }

  function settle(id) {
    outbox = outbox.filter(function (item) { return item.frame.id !== id; });
    save("outbox", outbox);
  }

  function choose(button) {
    if (button.action === "/new") { startOver(); return; }
    clearReplies();
    enqueue({ type: "action", action: button.action, label: button.label }, true);
  }

  function startOver() {
    token = null;
    forget("token");
    outbox = [];
    save("outbox", outbox);
    lastSeq = 0;
    bySeq = {};
    byId = {};
    storedIds = {};
    log.textContent = "";
    reconnectNow();
  }

  // --- the connection ------------------------------------------------------------------------
  function connect() {
    if (socket) { return; }
    status.textContent = t("connecting");
    socket = new WebSocket(socketUrl);
    socket.addEventListener("open", function () {
      socket.send(JSON.stringify({ type: "hello", token: token, lang: language, after: lastSeq }));
    });
    socket.addEventListener("message", function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (error) { return; }
      (Array.isArray(data) ? data : [data]).forEach(receive);
    });
    socket.addEventListener("close", function () {
      socket = null;
      connected = false;
      if (!panel.hidden || outbox.length) {
        status.textContent = t("offline");
        retryTimer = window.setTimeout(connect, retryDelay + Math.random() * 500);
        retryDelay = Math.min(retryDelay * 2, 15000);
      }
    });
  }

  function reconnectNow() {
    window.clearTimeout(retryTimer);
    retryDelay = 1000;
    if (socket) { socket.close(); } else { connect(); }
  }

  function receive(frame) {
    if (frame.type === "welcome") {
      connected = true;
      retryDelay = 1000;
      status.textContent = "";
      if (!frame.resumed) {
        log.textContent = "";
        bySeq = {};
        byId = {};
        storedIds = {};
        lastSeq = 0;
      }
      if (frame.token) { token = frame.token; save("token", token); }
      mode = frame.status === "queued" || frame.status === "assigned" ? frame.status : "bot";
      if (frame.lang && frame.lang !== language) { language = pickLanguage(frame.lang); applyLanguage(); }
      (frame.history || []).forEach(render);
      outbox.forEach(function (item) { renderPending(item); transmit(item); });
    } else if (frame.type === "message") {
      render(frame);
      if (frame.id) { settle(frame.id); }
    } else if (frame.type === "ack") {
      settle(frame.id);
      if (frame.status) { receive({ type: "status", status: frame.status }); }
      if (byId[frame.id]) { setState(byId[frame.id], ""); }
    } else if (frame.type === "typing") {
      status.textContent = frame.sender === "advisor" ? t("advisorTyping") : t("typing");
      window.clearTimeout(typingTimer);
      typingTimer = window.setTimeout(showStatus, 5000);
    } else if (frame.type === "status") {
      mode = frame.status === "queued" || frame.status === "assigned" ? frame.status : "bot";
      if (mode !== "queued") { queueText = ""; }
      if (mode !== "bot" && status.textContent === t("typing")) { showStatus(); }
    } else if (frame.type === "queue") {
      mode = "queued";
      queueText = frame.text || "";
      showStatus();
    } else if (frame.type === "error") {
      status.textContent = frame.message || "";
      if (frame.id && (frame.code === "too_long" || frame.code === "bad_frame")) {
        settle(frame.id);
        if (byId[frame.id]) { setState(byId[frame.id], t("failed")); delete byId[frame.id]; }
      } else if (frame.code === "expired") {
        token = null;
        forget("token");
      } else if (frame.code === "rate_limited" || frame.code === "unavailable") {
        var pending = outbox.filter(function (item) { return item.frame.id === frame.id; });
        window.setTimeout(function () { pending.forEach(transmit); }, 5000);
      }
    }
  }

  // --- opening and closing -------------------------------------------------------------------
  function open() {
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    save("open", true, true);
    connect();
    input.focus();
  }

  function close() {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    save("open", false, true);
    launcher.focus();
  }

  launcher.addEventListener("click", open);
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); close(); }
  });
  endButton.addEventListener("click", function () { clearReplies(); enqueue({ type: "end", label: t("end") }, true); });
  languageSelect.addEventListener("change", function () {
    language = pickLanguage(languageSelect.value);
    applyLanguage();
    enqueue({ type: "action", action: "/lang:" + language, label: languageSelect.options[languageSelect.selectedIndex].text }, true);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    clearReplies();
    enqueue({ type: "message", text: text }, true);
  });
  input.addEventListener("input", function () {
    // A person waiting for or talking with the citizen sees "typing…"; the bot does not need it.
    var now = Date.now();
    if (mode !== "bot" && connected && socket && now - lastTypingSent > 3000) {
      lastTypingSent = now;
      socket.send(JSON.stringify({ type: "typing" }));
    }
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  window.addEventListener("online", function () { if (!connected) { reconnectNow(); } });

  applyLanguage();
  function mount() {
    document.body.appendChild(host);
    if (load("open", false, true)) { open(); }
    else if (token && outbox.length) { connect(); }
  }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
