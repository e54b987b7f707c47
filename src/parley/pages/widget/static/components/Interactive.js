// A bot's interactive message drawn as controls: ListPicker and Panel (a group named by the title, one button per
// element), QuickReply (one button per option) and TimePicker (TimePicker.js). A choice is sent back as an
// interactive.response message; once answered (or when a later message followed) the buttons are disabled.
import { useState } from "preact/hooks";
import { html } from "./html.js";
import { TimePicker } from "./TimePicker.js";

let ids = 0;

export function Interactive({ template, adapter, chat, answered }) {
  const [chosen, setChosen] = useState("");
  const [titleId] = useState(() => `choice-${++ids}`);
  const closed = answered || !!chosen || chat.phase.value !== "open";

  async function choose(choice, label) {
    setChosen(label);
    if (!(await adapter.answer(template, choice, label))) setChosen("");
  }

  if (template.type === "TimePicker") {
    return html`<${TimePicker} template=${template} titleId=${titleId} closed=${closed} chosen=${chosen} onChoose=${choose} />`;
  }
  const quick = template.type === "QuickReply";
  return html`
    <div class="interactive ${quick ? "quick" : "list"}" role="group" aria-labelledby=${titleId}>
      <p id=${titleId} class="choice-title">${template.title}</p>
      ${template.subtitle && html`<p class="choice-subtitle">${template.subtitle}</p>`}
      <div class="choices">
        ${template.elements.map((element, index) => {
          const subId = `${titleId}-${index}`;
          return html`
            <button type="button" class="choice" disabled=${closed} aria-pressed=${chosen === element.title ? "true" : undefined}
              aria-label=${element.subtitle ? element.title : undefined} aria-describedby=${element.subtitle ? subId : undefined}
              onClick=${() => choose(element, element.title)}>
              <span class="choice-label">${element.title}</span>
              ${element.subtitle && html`<span id=${subId} class="choice-detail">${element.subtitle}</span>`}
            </button>`;
        })}
      </div>
      ${chosen && template.reply && html`<p class="choice-reply">${template.reply}</p>`}
    </div>`;
}
