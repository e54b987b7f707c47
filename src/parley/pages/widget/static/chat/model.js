// What a chat item from ChatJS (or GetTranscript) means for the customer's screen: pure functions, no state,
// no network. Items keep Amazon Connect's field names (Id, Type, ContentType, ParticipantRole, ...).

const EVENT = "application/vnd.amazonaws.connect.event.";
export const CT = {
  typing: EVENT + "typing",
  joined: EVENT + "participant.joined",
  left: EVENT + "participant.left",
  autoDisconnected: EVENT + "participant.autodisconnection",
  transferSucceeded: EVENT + "transfer.succeeded",
  transferFailed: EVENT + "transfer.failed",
  ended: EVENT + "chat.ended",
  read: EVENT + "message.read",
  delivered: EVENT + "message.delivered",
  interactive: "application/vnd.amazonaws.connect.message.interactive",
  interactiveResponse: "application/vnd.amazonaws.connect.message.interactive.response",
  markdown: "text/markdown",
  plain: "text/plain",
};

const ROLE_LABELS = { AGENT: "Agent", CUSTOMER: "Customer", CUSTOM_BOT: "Bot", SYSTEM: "Bot", SUPERVISOR: "Supervisor" };
export const roleLabel = (role) => ROLE_LABELS[role] || "Participant";

// Interactive templates the widget draws as controls (Panel is a ListPicker without images).
export const TEMPLATES = new Set(["ListPicker", "Panel", "QuickReply", "TimePicker"]);

function parseJson(text) {
  try {
    const value = JSON.parse(text);
    return value && typeof value === "object" ? value : null;
  } catch {
    return null;
  }
}

const str = (value, max = 400) => (typeof value === "string" ? value.slice(0, max) : "");

/** A bot's interactive message as {type, title, subtitle, elements|slots, reply, raw}, or null when it is none
 * the widget knows (it is then shown as text). Strings are clipped to Connect's field limits. */
export function parseTemplate(content) {
  const value = parseJson(content);
  const type = value && value.templateType;
  const body = value && value.data && value.data.content;
  if (!TEMPLATES.has(type) || !body || typeof body !== "object") return null;
  const template = {
    type, title: str(body.title), subtitle: str(body.subtitle), raw: value,
    reply: str(value.data.replyMessage && value.data.replyMessage.title),
  };
  if (type === "TimePicker") {
    const slots = Array.isArray(body.timeslots) ? body.timeslots : [];
    template.slots = slots.filter((s) => s && !Number.isNaN(Date.parse(s.date))).slice(0, 40)
      .map((s) => ({ date: s.date, duration: Number(s.duration) || 0 }));
    return template.slots.length ? template : null;
  }
  const elements = Array.isArray(body.elements) ? body.elements : [];
  template.elements = elements.filter((e) => e && typeof e.title === "string" && e.title).slice(0, 10)
    .map((e) => ({ title: str(e.title, 200), subtitle: str(e.subtitle), actionDetail: str(e.actionDetail, 40) }));
  return template.elements.length ? template : null;
}

/** The Content of an interactive.response answering `template` with `choice` (an element, or a time slot).
 * "Show more" / "Previous options" buttons send Connect's action payload; a choice echoes the template narrowed
 * to what was chosen, so a bot reads data.content.elements[0].title (or timeslots[0].date). */
export function responseContent(template, choice) {
  const source = template.raw.data.content;
  const keep = {};
  for (const key of ["referenceId", "listId"]) if (source[key] !== undefined) keep[key] = source[key];
  if (choice.actionDetail === "SHOW_MORE" || choice.actionDetail === "PREVIOUS_OPTIONS") {
    return JSON.stringify({
      version: "1.0", action: choice.actionDetail,
      data: { actionName: choice.actionDetail, preIndex: source.preIndex, nextIndex: source.nextIndex,
        templateType: template.type, ...keep },
    });
  }
  const content = template.type === "TimePicker"
    ? { title: template.title, timeslots: [{ date: choice.date, duration: choice.duration }] }
    : { title: template.title, elements: [{ title: choice.title }] };
  return JSON.stringify({ templateType: template.type, version: "1.0", data: { content: { ...content, ...keep } } });
}

/** What a customer's interactive.response says, as text ("Apple", or a slot's local time). */
export function responseText(content) {
  const value = parseJson(content);
  const body = value && value.data && value.data.content;
  if (body && Array.isArray(body.elements) && body.elements[0]) return str(body.elements[0].title, 200);
  if (body && Array.isArray(body.timeslots) && body.timeslots[0]) return slotLabel(body.timeslots[0].date);
  if (value && value.action) return str(value.action, 40) === "SHOW_MORE" ? "Show more" : "Previous options";
  return str(content, 1024);
}

const slotFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "long", month: "long", day: "numeric", hour: "numeric", minute: "2-digit",
});
export const slotLabel = (date) => slotFormat.format(new Date(date));

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const stampFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
export const shortTime = (iso) => (iso ? timeFormat.format(new Date(iso)) : "");
export const fullTime = (iso) => (iso ? stampFormat.format(new Date(iso)) : "");

/** The entry the conversation shows for an item, or null for items that are no entry (typing, receipts,
 * acknowledgements, the customer's own "joined"). */
export function toEntry(item, myParticipantId) {
  const base = {
    id: item.Id, time: item.AbsoluteTime || "", participantId: item.ParticipantId || "",
    name: item.DisplayName || roleLabel(item.ParticipantRole), role: item.ParticipantRole || "SYSTEM",
  };
  base.mine = !!base.participantId && base.participantId === myParticipantId;
  const type = item.ContentType || "";
  if (item.Type === "ATTACHMENT" && Array.isArray(item.Attachments) && item.Attachments[0]) {
    const a = item.Attachments[0];
    return { ...base, kind: "attachment",
      attachment: { id: a.AttachmentId, name: a.AttachmentName || "file", type: a.ContentType || "", status: a.Status } };
  }
  if (item.Type === "MESSAGE") {
    if (type === CT.interactive) {
      const template = parseTemplate(item.Content);
      if (template) return { ...base, kind: "interactive", template };
      return { ...base, kind: "message", text: "This message holds a choice this chat window cannot show." };
    }
    if (type === CT.interactiveResponse) return { ...base, kind: "message", text: responseText(item.Content) };
    return { ...base, kind: "message", text: item.Content || "", markdown: type === CT.markdown };
  }
  if (item.Type !== "EVENT") return null;
  if (type === CT.joined) return base.mine ? null : { ...base, kind: "notice", text: `${base.name} joined` };
  if (type === CT.left) return base.mine ? null : { ...base, kind: "notice", text: `${base.name} left` };
  if (type === CT.autoDisconnected) return { ...base, kind: "notice", text: `${base.name} was disconnected for inactivity` };
  if (type === CT.transferSucceeded) return { ...base, kind: "notice", text: "Chat transferred" };
  if (type === CT.transferFailed) return { ...base, kind: "notice", text: "The transfer did not go through" };
  if (type === CT.ended) return { ...base, kind: "notice", text: "Chat ended" };
  return null;
}

/** Participant presence changes an item makes: "joined" | "left" | null. */
export function presence(item) {
  if (item.Type !== "EVENT" || !item.ParticipantId || item.ParticipantRole === "SYSTEM") return null;
  if (item.ContentType === CT.joined) return "joined";
  if (item.ContentType === CT.left || item.ContentType === CT.autoDisconnected) return "left";
  return null;
}

/** Receipts carried by an item: [{messageId, read, participantId}] (MESSAGEMETADATA items, or a message's own
 * MessageMetadata as GetTranscript returns it). */
export function receiptsOf(item) {
  const meta = item.MessageMetadata;
  if (!meta || !Array.isArray(meta.Receipts)) return [];
  return meta.Receipts.map((r) => ({
    messageId: meta.MessageId || item.Id, read: !!r.ReadTimestamp, participantId: r.RecipientParticipantId,
  }));
}
