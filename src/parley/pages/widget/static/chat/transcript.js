// The ended chat's transcript as plain text, built from what the conversation shows.
import { fullTime, roleLabel, slotLabel } from "./model.js";

function body(entry) {
  if (entry.kind === "attachment") return `sent a file: ${entry.attachment.name}`;
  if (entry.kind === "interactive") {
    const t = entry.template;
    const options = t.type === "TimePicker" ? t.slots.map((s) => slotLabel(s.date)) : t.elements.map((e) => e.title);
    return `${t.title}${t.subtitle ? ` (${t.subtitle})` : ""}\n    Options: ${options.join("; ")}`;
  }
  return entry.text;
}

export function transcriptText(title, entries) {
  const lines = [`${title} — transcript`, `Saved ${fullTime(new Date().toISOString())}`, ""];
  for (const entry of entries) {
    if (entry.pending) continue;
    const when = fullTime(entry.time);
    if (entry.kind === "notice") {
      lines.push(`[${when}] — ${entry.text} —`);
    } else {
      const text = body(entry).replace(/\n/g, "\n    ");
      lines.push(`[${when}] ${entry.name} (${roleLabel(entry.role)}): ${text}`);
    }
  }
  return lines.join("\n") + "\n";
}

export function transcriptFileName(date = new Date()) {
  const pad = (n) => String(n).padStart(2, "0");
  return `chat-transcript-${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}-`
    + `${pad(date.getHours())}${pad(date.getMinutes())}.txt`;
}
