// The test chat page's form, like Amazon Connect's test chat page: the instance and contact flow (the demo's
// defaults chosen), "Your name", optional "Contact attributes" (key=value lines), "Start chat", and "New chat",
// which never ends a chat silently: while one is on it asks first.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "./html.js";

const MAX_NAME = 100;

/** {attributes} from key=value lines, or {problem} naming the first line that is not one. */
export function parseAttributes(text) {
  const attributes = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const at = line.indexOf("=");
    if (at < 1) return { problem: `Line ${i + 1} (“${line.slice(0, 40)}”) is not key=value.` };
    attributes[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return { attributes };
}

export function TestChatForm({ chat, options, onStart, onNewChat }) {
  const [instanceId, setInstanceId] = useState("");
  const [flowId, setFlowId] = useState("");
  const [errors, setErrors] = useState({});
  const name = useRef(null);
  const attrs = useRef(null);
  const list = options.value.list || [];
  const instance = list.find((i) => i.InstanceId === instanceId) || list[0];
  const flows = instance ? instance.ContactFlows : [];
  const busy = chat.active.value || chat.phase.value === "starting";

  useEffect(() => {
    if (!instance) return;
    if (instance.InstanceId !== instanceId) setInstanceId(instance.InstanceId);
    if (!flows.some((f) => f.Id === flowId)) setFlowId((flows.find((f) => f.Default) || flows[0] || {}).Id || "");
  }, [list, instanceId]);

  function submit(event) {
    event.preventDefault();
    const typed = name.current.value.trim();
    const parsed = parseAttributes(attrs.current.value);
    const found = {};
    if (!typed) found.name = "Enter the name the agent will see.";
    if (parsed.problem) found.attrs = parsed.problem;
    if (!instanceId || !flowId) found.flow = "Choose an instance and a contact flow.";
    setErrors(found);
    if (found.name) name.current.focus();
    else if (found.attrs) attrs.current.focus();
    if (Object.keys(found).length) return;
    onStart({ instanceId, flowId, name: typed, attributes: parsed.attributes });
  }

  const field = (id, label, control, error, hint) => html`
    <div class="field">
      <label for=${id}>${label}</label>
      ${hint && html`<p id=${`${id}-hint`} class="hint">${hint}</p>`}
      ${control}
      ${error && html`<p id=${`${id}-error`} class="field-error">${error}</p>`}
    </div>`;
  const described = (id, error, hint) => [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(" ") || undefined;

  return html`
    <form class="test-chat-form card" onSubmit=${submit} noValidate aria-labelledby="test-chat-form-title">
      <h2 id="test-chat-form-title">Start a test chat</h2>
      ${options.value.problem && html`<p class="notice error" role="alert">${options.value.problem}
        ${options.value.signIn && html` <a href="/connect/login?landat=/test-chat">Sign in</a>`}</p>`}
      ${field("tc-instance", "Instance", html`
        <select id="tc-instance" value=${instanceId} disabled=${busy || !list.length}
          onChange=${(e) => setInstanceId(e.currentTarget.value)}>
          ${!list.length && html`<option value="">${options.value.loading ? "Loading…" : "No instance"}</option>`}
          ${list.map((i) => html`<option value=${i.InstanceId}>${i.InstanceAlias || i.InstanceId}</option>`)}
        </select>`)}
      ${field("tc-flow", "Contact flow", html`
        <select id="tc-flow" value=${flowId} disabled=${busy || !flows.length} aria-describedby=${described("tc-flow", errors.flow)}
          onChange=${(e) => setFlowId(e.currentTarget.value)}>
          ${!flows.length && html`<option value="">${options.value.loading ? "Loading…" : "No contact flow"}</option>`}
          ${flows.map((f) => html`<option value=${f.Id}>${f.Name || f.Id}${f.Default ? " (default)" : ""}</option>`)}
        </select>`, errors.flow)}
      ${field("tc-name", "Your name", html`
        <input id="tc-name" ref=${name} autocomplete="name" maxLength=${MAX_NAME} disabled=${busy}
          aria-invalid=${errors.name ? "true" : "false"} aria-describedby=${described("tc-name", errors.name)} />`, errors.name)}
      ${field("tc-attrs", "Contact attributes", html`
        <textarea id="tc-attrs" ref=${attrs} rows="3" disabled=${busy} spellcheck="false" placeholder="orderId=12345"
          aria-invalid=${errors.attrs ? "true" : "false"}
          aria-describedby=${described("tc-attrs", errors.attrs, true)}></textarea>`, errors.attrs,
        "Optional: one key=value per line. The contact flow and the agent see them as contact attributes.")}
      <div class="form-actions">
        <button type="submit" class="button" disabled=${busy || !list.length}>
          ${chat.phase.value === "starting" ? "Starting…" : "Start chat"}
        </button>
        <button type="button" class="button secondary" onClick=${onNewChat}>New chat</button>
      </div>
    </form>`;
}
