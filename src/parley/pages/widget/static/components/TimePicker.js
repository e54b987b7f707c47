// A TimePicker: the slots grouped by day, each a button named by its local date and time ("Monday, March 2 at
// 2:00 PM"); the customer's own time zone, as the browser knows it.
import { html } from "./html.js";
import { slotLabel } from "../chat/model.js";

const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", month: "long", day: "numeric" });
const hourFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });

function byDay(slots) {
  const days = new Map();
  for (const slot of [...slots].sort((a, b) => Date.parse(a.date) - Date.parse(b.date))) {
    const day = dayFormat.format(new Date(slot.date));
    if (!days.has(day)) days.set(day, []);
    days.get(day).push(slot);
  }
  return [...days.entries()];
}

export function TimePicker({ template, titleId, closed, chosen, onChoose }) {
  return html`
    <div class="interactive time" role="group" aria-labelledby=${titleId}>
      <p id=${titleId} class="choice-title">${template.title}</p>
      ${template.subtitle && html`<p class="choice-subtitle">${template.subtitle}</p>`}
      ${byDay(template.slots).map(([day, slots]) => html`
        <p class="choice-day">${day}</p>
        <div class="choices slots">
          ${slots.map((slot) => {
            const label = slotLabel(slot.date);
            return html`
              <button type="button" class="choice slot" disabled=${closed} aria-label=${label}
                aria-pressed=${chosen === label ? "true" : undefined} onClick=${() => onChoose(slot, label)}>
                ${hourFormat.format(new Date(slot.date))}${slot.duration ? html`<span class="choice-detail">${slot.duration} min</span>` : ""}
              </button>`;
          })}
        </div>`)}
      ${chosen && template.reply && html`<p class="choice-reply">${template.reply}</p>`}
    </div>`;
}
