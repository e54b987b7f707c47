// Times and durations as an agent reads them.
export function duration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

// One formatter for every time shown (what toLocaleTimeString([], { hour, minute }) gives, without building a
// formatter per call).
const CLOCK = new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit" });
export function clock(iso) {
  const when = new Date(iso);
  return Number.isNaN(when.getTime()) ? "" : CLOCK.format(when);
}

// An item's time as shown, formatted once per item (adapter/chat.js asks when the item is added).
const stamps = new WeakMap();
export function timeOf(item) {
  let text = stamps.get(item);
  if (text === undefined) { text = clock(item.AbsoluteTime); stamps.set(item, text); }
  return text;
}

export const ROLES = { AGENT: "Agent", CUSTOMER: "Customer", CUSTOM_BOT: "Bot", SYSTEM: "System",
                       SUPERVISOR: "Supervisor" };

export function bytes(size) {
  if (!size && size !== 0) { return ""; }
  return size < 1024 ? `${size} B` : size < 1048576 ? `${(size / 1024).toFixed(0)} KB` : `${(size / 1048576).toFixed(1)} MB`;
}
