// The test chat page (/test-chat): its form starts a chat with POST /test-chat/start, and the same chat window
// as the widget's runs below it, in the page (same modules, another start function).
import { render } from "preact";
import { signal } from "@preact/signals";
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "./components/html.js";
import { App } from "./components/App.js";
import { TestChatForm } from "./components/TestChatForm.js";
import { createChatState } from "./chat/state.js";
import { createAdapter } from "./chat/adapter.js";
import { getJson, postJson } from "./chat/http.js";
import { sessionStore } from "./chat/storage.js";

const root = document.getElementById("test-chat");
const chat = createChatState();
const options = signal({ loading: true, list: [], problem: "", signIn: false });
let chosen = null;

const adapter = createAdapter(chat, {
  store: sessionStore("parley.test-chat"),
  canSee: () => document.visibilityState === "visible",
  startChat: (name, attributes) => postJson("/test-chat/start", {
    InstanceId: chosen.instanceId, ContactFlowId: chosen.flowId, DisplayName: name, Attributes: attributes,
  }),
});
document.addEventListener("visibilitychange", () => adapter.seen());

getJson("/test-chat/options").then(
  (list) => { options.value = { loading: false, list, problem: list.length ? "" : "This server has no instance yet." }; },
  (error) => {
    options.value = { loading: false, list: [], problem: error.message, signIn: error.code === "SignInRequired" };
  },
);

function focusName() {
  const input = document.getElementById("tc-name");
  if (input) input.focus();
}

function Page() {
  const [confirming, setConfirming] = useState(false);
  const waitingForEnd = useRef(false);
  const phase = chat.phase.value;
  useEffect(() => {
    // "New chat" during a chat: once the confirmed end has happened, the form is ready again.
    if (waitingForEnd.current && (phase === "ended" || phase === "prechat")) {
      waitingForEnd.current = false;
      adapter.reset();
      focusName();
    }
  }, [phase]);
  const start = (form) => {
    chosen = form;
    adapter.begin(form.name, form.attributes);
  };
  const newChat = () => {
    if (chat.active.value) {
      setConfirming("new");
      return;
    }
    adapter.reset();
    focusName();
  };
  return html`
    <div class="test-chat-layout">
      <${TestChatForm} chat=${chat} options=${options} onStart=${start} onNewChat=${newChat} />
      <div class="test-chat-window">
        <${App} chat=${chat} adapter=${adapter} title="Chat with us" inPage=${true} confirming=${confirming} setConfirming=${setConfirming}
          onConfirmed=${(mode) => { waitingForEnd.current = mode === "new"; }}
          before=${html`<div class="screen empty-state">
            ${chat.problem.value && html`<p class="notice-box error" role="alert">${chat.problem.value.message}</p>`}
            <svg aria-hidden="true" viewBox="0 0 24 24" width="48" height="48">
              <path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z" /></svg>
            <p>${chat.phase.value === "starting" ? "Starting your chat…"
              : "No chat yet. Fill in the form and press “Start chat”: the conversation opens here, as a customer sees it."}</p>
          </div>`}
          onNewChat=${newChat} />
      </div>
    </div>`;
}

adapter.resume();
root.replaceChildren(); // the page's "Loading…" text
render(html`<${Page} />`, root);
