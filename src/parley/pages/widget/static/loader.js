/* Parley's chat widget loader, served as /widget.js. A website embeds it with one tag:

     <script src="https://parley.example.com/widget.js" data-widget-id="WIDGET_ID" async></script>

   Optional attributes: data-display-name="Jane" (skips the name question), data-token-provider="getChatToken"
   (the name of a global function returning a promise of a JWT, for widgets with a security key).

   It runs in the host page: it reads the widget's settings from Parley (GET /widget/{id}/config, CORS), draws a
   launcher button in a shadow root in the page's corner, and opens the chat window as an iframe of
   /widget/{id}/window (380 × 600, the whole screen on phones). Its only global is window.ParleyWidget:
   open(), close(), toggle(), isOpen(), setToken(jwt), setDisplayName(name). */
(function () {
  "use strict";
  if (window.ParleyWidget) return;
  var script = document.currentScript || document.querySelector("script[data-widget-id]");
  if (!script || !script.getAttribute("data-widget-id")) return;

  var TAG = "parley-widget";
  var widgetId = script.getAttribute("data-widget-id");
  var base = new URL(script.src, location.href).origin;
  var providerName = script.getAttribute("data-token-provider") || "";
  // sessionStorage of the host page: whether a chat is on (a reload then loads its window at once, for the unread
  // count) and, when the browser blocks storage in the window's frame, the chat's details the window hands over.
  var memory = "parley-widget:" + widgetId;
  var state = {
    open: false, config: null, refusal: "", frame: null, ready: false, unread: 0, token: null,
    name: (script.getAttribute("data-display-name") || "").slice(0, 100),
  };
  var els = {};

  var CSS = [
    ":host{all:initial}",
    ".launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;padding:0;",
    "background:var(--pw-primary,#2457c5);color:var(--pw-on-primary,#fff);box-shadow:0 4px 14px rgb(16 24 40/.3);",
    "cursor:pointer;z-index:2147483000;display:grid;place-items:center}",
    ".launcher:hover{filter:brightness(1.08)}",
    ".launcher:focus-visible{outline:3px solid #2563eb;outline-offset:3px}",
    ".launcher svg{width:28px;height:28px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}",
    ".badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;box-sizing:border-box;padding:0 6px;",
    "border-radius:10px;background:#b42318;color:#fff;font:600 12px/20px system-ui,sans-serif;text-align:center}",
    ".badge[hidden]{display:none}",
    ".window{position:fixed;right:20px;bottom:88px;width:380px;height:min(600px,calc(100vh - 108px));",
    "border-radius:16px;overflow:hidden;box-shadow:0 8px 28px rgb(16 24 40/.28);z-index:2147483000;",
    "background:#fff;display:none}",
    ".window.open{display:block}",
    ".window iframe{border:0;width:100%;height:100%;display:block;color-scheme:normal}",
    ".refusal{box-sizing:border-box;height:100%;padding:24px;font:16px/1.5 system-ui,sans-serif;color:#161a26;",
    "display:flex;flex-direction:column;gap:16px}",
    ".refusal h2{font-size:18px;margin:0}",
    ".refusal p{margin:0}",
    ".refusal button{align-self:flex-start;font:inherit;font-weight:600;padding:8px 16px;border-radius:6px;",
    "border:1px solid #d5d9e4;background:#fff;color:#161a26;cursor:pointer}",
    ".refusal button:focus-visible{outline:3px solid #2563eb;outline-offset:2px}",
    ".visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "@media (prefers-color-scheme:dark){.window{background:#181b24}.refusal{color:#e8eaf2}",
    ".refusal button{background:#222633;color:#e8eaf2;border-color:#343a4b}}",
    "@media (max-width:479px){.window{inset:0;width:100%;height:100%;border-radius:0}.launcher.open{display:none}}",
  ].join("");

  var CHAT_ICON = "M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z";
  var CLOSE_ICON = "M6 6l12 12M18 6L6 18";

  function remember(key, value) {
    try {
      if (value) sessionStorage.setItem(memory + key, value);
      else sessionStorage.removeItem(memory + key);
    } catch (e) { /* storage disabled: a reload just starts a new chat */ }
  }
  function recall(key) {
    try { return sessionStorage.getItem(memory + key); } catch (e) { return null; }
  }
  function keptSession() {
    try { return JSON.parse(recall(":session") || "null"); } catch (e) { return null; }
  }

  function icon(path) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    var p = document.createElementNS(ns, "path");
    p.setAttribute("d", path);
    svg.appendChild(p);
    return svg;
  }

  function post(message) {
    // Only once the window has said it is ready: before, the frame still holds a blank page of this origin.
    if (!state.ready || !state.frame || !state.frame.contentWindow) return;
    message[TAG] = widgetId;
    state.frame.contentWindow.postMessage(message, base);
  }

  function ensureFrame() {
    if (state.frame || !state.config) return;
    var frame = document.createElement("iframe");
    frame.title = state.config.Title || "Chat";
    frame.src = base + "/widget/" + encodeURIComponent(widgetId) + "/window?origin=" + encodeURIComponent(location.origin);
    state.frame = frame;
    els.window.appendChild(frame);
  }

  function showRefusal() {
    if (els.refusal) return;
    var box = document.createElement("div");
    box.className = "refusal";
    var heading = document.createElement("h2");
    heading.textContent = "Chat is not available here";
    var text = document.createElement("p");
    text.setAttribute("role", "alert");
    text.textContent = state.refusal;
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "Close";
    close.addEventListener("click", function () { setOpen(false); });
    box.appendChild(heading);
    box.appendChild(text);
    box.appendChild(close);
    els.refusal = box;
    els.window.appendChild(box);
  }

  function drawLauncher() {
    var title = (state.config && state.config.Title) || "Chat";
    els.launcher.replaceChildren(icon(state.open ? CLOSE_ICON : CHAT_ICON), els.badge);
    els.launcher.setAttribute("aria-label", state.open ? "Close chat" : "Open chat");
    els.launcher.setAttribute("aria-expanded", state.open ? "true" : "false");
    els.launcher.title = state.open ? "Close chat" : title;
    els.launcher.classList.toggle("open", state.open);
    var count = state.open ? 0 : state.unread;
    els.badge.hidden = !count;
    els.badge.textContent = count > 99 ? "99+" : String(count);
    els.unreadText.textContent = count ? count + (count === 1 ? " unread message" : " unread messages") : "";
  }

  function setOpen(open) {
    if (!els.launcher || open === state.open) return;
    state.open = open;
    if (open) {
      if (state.config) ensureFrame();
      else showRefusal();
    }
    els.window.classList.toggle("open", open);
    drawLauncher();
    post({ type: "visibility", open: open });
    if (open && state.frame) state.frame.focus();
    else if (open && els.refusal) els.refusal.querySelector("button").focus();
    else els.launcher.focus();
  }

  function answerToken() {
    var provider = providerName && typeof window[providerName] === "function" ? window[providerName] : null;
    var pending = state.token ? Promise.resolve(state.token) : provider ? Promise.resolve().then(provider) : Promise.resolve(null);
    pending.then(function (token) {
      post({ type: "token", token: typeof token === "string" ? token : null });
    }, function () {
      post({ type: "token", token: null });
    });
  }

  function onMessage(event) {
    var data = event.data;
    if (!state.frame || event.source !== state.frame.contentWindow || event.origin !== base) return;
    if (!data || data[TAG] !== widgetId) return;
    if (data.type === "ready") {
      state.ready = true;
      post({ type: "hello", open: state.open, name: state.name, session: keptSession() });
    } else if (data.type === "close") setOpen(false);
    else if (data.type === "need-token") answerToken();
    else if (data.type === "chat") remember(":chatting", data.active ? "1" : "");
    else if (data.type === "session") remember(":session", data.session ? JSON.stringify(data.session) : "");
    else if (data.type === "unread" && typeof data.count === "number") {
      state.unread = Math.max(0, Math.floor(data.count));
      drawLauncher();
    }
  }

  function draw() {
    var holder = document.createElement("div");
    holder.setAttribute("data-parley-widget", widgetId);
    var root = holder.attachShadow({ mode: "open" });
    if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function") {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS); // no <style> element: works under a host page's strict style-src too
      root.adoptedStyleSheets = [sheet];
    } else {
      var style = document.createElement("style");
      style.textContent = CSS;
      root.appendChild(style);
    }
    if (state.config) {
      holder.style.setProperty("--pw-primary", state.config.PrimaryColor);
      holder.style.setProperty("--pw-on-primary", state.config.OnPrimaryColor);
    }
    els.window = document.createElement("div");
    els.window.className = "window";
    els.launcher = document.createElement("button");
    els.launcher.type = "button";
    els.launcher.className = "launcher";
    els.badge = document.createElement("span");
    els.badge.className = "badge";
    els.badge.setAttribute("aria-hidden", "true");
    els.unreadText = document.createElement("span");
    els.unreadText.className = "visually-hidden";
    els.unreadText.id = "parley-unread";
    els.launcher.setAttribute("aria-describedby", "parley-unread");
    els.launcher.addEventListener("click", function () { setOpen(!state.open); });
    root.appendChild(els.window);
    root.appendChild(els.launcher);
    root.appendChild(els.unreadText);
    drawLauncher();
    document.body.appendChild(holder);
    window.addEventListener("message", onMessage);
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && state.open) setOpen(false);
    });
    if (state.config && (recall(":chatting") || recall(":session"))) ensureFrame(); // a chat was on before this reload: keep its unread count
  }

  function refused(message) {
    state.refusal = message || "Chat is not available right now. Try again later.";
  }

  fetch(base + "/widget/" + encodeURIComponent(widgetId) + "/config", { credentials: "omit" })
    .then(function (response) {
      return response.json().then(function (body) {
        if (response.ok && body && body.WidgetId) state.config = body;
        else refused(body && body.Message);
      }, function () { refused(""); });
    }, function () { refused("Chat could not reach its server. Check your connection and reload the page."); })
    .then(function () {
      if (document.body) draw();
      else document.addEventListener("DOMContentLoaded", draw);
    });

  window.ParleyWidget = Object.freeze({
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
    toggle: function () { setOpen(!state.open); },
    isOpen: function () { return state.open; },
    setToken: function (jwt) { state.token = typeof jwt === "string" && jwt ? jwt : null; },
    setDisplayName: function (name) {
      state.name = String(name || "").slice(0, 100);
      post({ type: "hello", open: state.open, name: state.name });
    },
  });
})();
