// The widget's chat window (/widget/{id}/window, framed by loader.js on the host page): the widget's settings come
// from the page's data attributes, chats start with POST /widget/{id}/start, and the window keeps the host page
// informed (unread count, close requests) through chat/host.js.
import { render } from "preact";
import { effect } from "@preact/signals";
import { html } from "./components/html.js";
import { App } from "./components/App.js";
import { PreChat } from "./components/PreChat.js";
import { createChatState } from "./chat/state.js";
import { createAdapter } from "./chat/adapter.js";
import { connectHost } from "./chat/host.js";
import { postJson } from "./chat/http.js";
import { relayStore, sessionStore } from "./chat/storage.js";

const root = document.getElementById("chat");
const data = root.dataset;
const config = {
  widgetId: data.widgetId, title: data.title, greeting: data.greeting || "", needsToken: data.needsToken === "true",
  allowedOrigins: JSON.parse(data.allowedOrigins || "[]"),
};
document.documentElement.style.setProperty("--widget-primary", data.primary);
document.documentElement.style.setProperty("--widget-on-primary", data.onPrimary);

const chat = createChatState();
const host = connectHost(config);

async function startChat(name) {
  const body = { DisplayName: name };
  if (config.needsToken) {
    const token = await host.token();
    if (!token) throw new Error("This website has not signed you in for chat yet. Reload the page and try again.");
    body.Token = token;
  }
  return postJson(`/widget/${encodeURIComponent(config.widgetId)}/start`, body);
}

await host.ready;
const own = sessionStore(`parley.widget.${config.widgetId}`);
const store = own.available || !host.embedded ? own : relayStore(host.session, host.keep);
const adapter = createAdapter(chat, { startChat, store, canSee: () => document.visibilityState === "visible" });

effect(() => chat.show(host.open.value));
effect(() => {
  if (!host.open.value) return;
  adapter.seen();
  // Opening the window moves the keyboard into it: the name, or the message box.
  setTimeout(() => {
    const first = document.querySelector("#prechat-name, #composer-message");
    if (first && host.embedded) first.focus();
  });
});
effect(() => host.unread(chat.unread.value));
effect(() => host.chatting(chat.active.value));
document.addEventListener("visibilitychange", () => adapter.seen());
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !document.querySelector("dialog[open]")) host.close();
});

const before = () => html`<${PreChat} chat=${chat} greeting=${config.greeting} knownName=${host.name.value}
  onStart=${(name) => adapter.begin(name)} />`;

function Window() {
  return html`<${App} chat=${chat} adapter=${adapter} title=${config.title} host=${host} before=${before()} />`;
}

adapter.resume();
root.replaceChildren(); // the page's "Loading…" text
render(html`<${Window} />`, root);
