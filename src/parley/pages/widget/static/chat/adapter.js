// The one module that talks to the chat: it drives ChatJS (the global `connect` of /lib/amazon-connect-chat.js,
// unmodified) as a CUSTOMER, exactly as any customer page does, and turns its callbacks into the state of
// state.js. Components call these functions; they never touch ChatJS or the network themselves.
//
// Reloads and drops: the chat's details (ContactId, ParticipantId, ParticipantToken) wait in `store`
// (sessionStorage, see storage.js); a new ChatJS session with the same details makes a fresh
// CreateParticipantConnection, and the transcript is read again after every (re)connection. Items are de-duplicated by Id in state.js, so nothing shows twice.
import { CT, responseContent } from "./model.js";
import { checkFile } from "./files.js";

const PAGE_SIZE = 100;
const MAX_PAGES = 20; // 2,000 items: far more than a chat holds
const RETRY_MS = [2000, 4000, 8000, 15000, 30000];
const END_TIMEOUT_MS = 10000;
const SETTLE_MS = 2500;

const statusOf = (error) => (error && (error.statusCode || (error._debug && statusOf(error._debug)))) || 0;
const typeOf = (error) => (error && (error.type || (error._debug && typeOf(error._debug)))) || "";

function explain(error, fallback) {
  if (typeOf(error) === "ServiceQuotaExceededException") return "This chat already holds all the files it can (35).";
  if (statusOf(error) === 429 || typeOf(error) === "ThrottlingException") return "Too many requests; wait a moment and try again.";
  if (typeof navigator !== "undefined" && navigator.onLine === false) return "You are offline. Check your connection and try again.";
  return (error && typeof error.message === "string" && error.message) || fallback;
}

export function createAdapter(chat, { startChat, store, canSee = () => true }) {
  let session = null;
  let details = null;
  let generation = 0;
  let configured = "";
  let lost = false;
  let retries = 0;
  let retryTimer = 0;
  const unreadIds = [];

  const load = () => store.load();
  const save = (value) => store.save(value);

  async function begin(name, attributes) {
    chat.phase.value = "starting";
    chat.problem.value = null;
    try {
      const started = await startChat(name, attributes);
      details = {
        ContactId: started.ContactId, ParticipantId: started.ParticipantId, ParticipantToken: started.ParticipantToken,
        Region: started.Region, ParticipantEndpoint: started.ParticipantEndpoint, DisplayName: name,
      };
      save(details);
      chat.focusComposer = true;
      open();
    } catch (error) {
      chat.reset({ message: explain(error, "The chat could not start. Try again in a moment."), retry: true });
    }
  }

  /** Reopen the chat this tab had before a reload; false when there is none. */
  function resume() {
    details = load();
    if (!details) return false;
    open();
    return true;
  }

  function open() {
    clearTimeout(retryTimer);
    const gen = ++generation;
    const live = (handler) => (event) => { if (gen === generation) handler(event || {}); };
    chat.opening(details.ParticipantId, details.DisplayName);
    if (configured !== details.ParticipantEndpoint) {
      // Before the first ChatSession.create: ChatJS caches its client per region with the endpoint it had.
      connect.ChatSession.setGlobalConfig({ region: details.Region, endpoint: details.ParticipantEndpoint });
      configured = details.ParticipantEndpoint;
    }
    session = connect.ChatSession.create({
      chatDetails: { ContactId: details.ContactId, ParticipantId: details.ParticipantId,
        ParticipantToken: details.ParticipantToken },
      type: "CUSTOMER", options: { region: details.Region }, disableCSM: true,
    });
    const received = live((event) => acknowledge(chat.receive([event.data], { live: true })));
    session.onMessage(received);
    session.onReadReceipt(received);
    session.onDeliveredReceipt(received);
    session.onTyping(live((event) => chat.typingFrom(event.data || {})));
    session.onEnded(live(() => finish()));
    session.onConnectionLost(live(() => {
      lost = true;
      if (chat.phase.value === "open") chat.phase.value = "reconnecting";
    }));
    session.onConnectionEstablished(live((event) => {
      if (!event.data) return; // the first call comes from connect() itself, before the socket opens
      retries = 0;
      if (chat.phase.value === "reconnecting" || chat.phase.value === "connecting") chat.phase.value = "open";
      // Fill what was said while the socket was down, and once more a moment later: ChatJS reports the socket
      // before its subscription is confirmed, and what is said in between reaches no socket.
      history(gen, lost);
      lost = false;
      setTimeout(() => { if (gen === generation) history(gen, true); }, SETTLE_MS);
    }));
    session.onConnectionBroken(live(() => {
      if (chat.phase.value === "ended") return;
      chat.phase.value = "reconnecting";
      retryLater();
    }));
    session.connect().then(live(() => {
      if (chat.phase.value === "connecting") chat.phase.value = "open";
      history(gen, false);
    }), live((error) => {
      if (statusOf(error) === 403) {
        // The participant token no longer opens a connection: the chat ended while this page was away.
        save(null);
        chat.reset({ message: "Your previous chat has ended. Start a new one whenever you like.", retry: false });
      } else if (chat.entries.value.length) {
        chat.phase.value = "reconnecting";
        retryLater();
      } else {
        chat.fail(explain(error, "The chat could not connect. Check your connection and try again."), true);
      }
    }));
  }

  function retryLater() {
    clearTimeout(retryTimer);
    const delay = RETRY_MS[Math.min(retries++, RETRY_MS.length - 1)];
    retryTimer = setTimeout(() => { if (details && chat.phase.value === "reconnecting") open(); }, delay);
  }

  /** Every page of the transcript (newest first, as Connect pages), merged into the conversation. */
  async function history(gen, gap) {
    chat.loadingHistory.value = true;
    try {
      let nextToken;
      for (let page = 0; page < MAX_PAGES && gen === generation; page++) {
        const args = { scanDirection: "BACKWARD", sortOrder: "ASCENDING", maxResults: PAGE_SIZE };
        if (nextToken) args.nextToken = nextToken;
        const response = await session.getTranscript(args);
        const data = (response && response.data) || {};
        if (gen !== generation) return;
        const fresh = chat.receive(data.Transcript || [], { live: gap });
        if (gap) acknowledge(fresh);
        nextToken = data.NextToken;
        if (!nextToken) break;
      }
    } catch {
      // The socket's own items still arrive; the next reconnection reads the transcript again.
    } finally {
      if (gen === generation) {
        chat.loadingHistory.value = false;
        chat.historyLoaded.value = true;
      }
    }
  }

  function receipt(type, messageId) {
    if (!session || !chat.receiptsOn.value || chat.phase.value !== "open") return;
    // Receipts are best effort: a refusal (e.g. a third party joined meanwhile) is never shown.
    session.sendEvent({ contentType: type, content: JSON.stringify({ messageId }) }).catch(() => {});
  }

  /** Delivered receipts for new messages from others; read receipts once the customer can see them. */
  function acknowledge(entries) {
    for (const entry of entries) {
      if (entry.kind === "notice") continue;
      receipt(CT.delivered, entry.id);
      unreadIds.push(entry.id);
    }
    seen();
  }

  /** The customer can see the conversation now: read receipts for what arrived meanwhile. */
  function seen() {
    if (!canSee() || !chat.visible.value) return;
    while (unreadIds.length) receipt(CT.read, unreadIds.shift());
  }

  function finish() {
    clearTimeout(retryTimer);
    save(null);
    chat.phase.value = "ended";
    chat.typing.value = [];
  }

  async function send(text, localId = null, clientToken = crypto.randomUUID()) {
    const id = localId || chat.addPending({ kind: "message", text, clientToken });
    if (localId) chat.updatePending(id, { failed: false, pending: true });
    try {
      const response = await session.sendMessage({ contentType: CT.plain, message: text, clientToken });
      chat.confirm(id, response.data.Id, response.data.AbsoluteTime);
    } catch (error) {
      chat.updatePending(id, { failed: true, problem: explain(error, "Not sent.") });
    }
  }

  async function answer(template, choice, label) {
    const clientToken = crypto.randomUUID();
    const id = chat.addPending({ kind: "message", text: label, clientToken });
    try {
      const response = await session.sendMessage({
        contentType: CT.interactiveResponse, message: responseContent(template, choice), clientToken,
      });
      chat.confirm(id, response.data.Id, response.data.AbsoluteTime);
      return true;
    } catch (error) {
      chat.dropPending(id);
      chat.composerProblem.value = explain(error, "Your choice was not sent. Try again.");
      return false;
    }
  }

  async function sendFile(picked) {
    const { file, problem } = checkFile(picked);
    chat.composerProblem.value = problem || "";
    if (!file) return;
    const id = chat.addPending({ kind: "upload", text: `Sending ${file.name}…` });
    try {
      await session.sendAttachment({ attachment: file });
      chat.dropPending(id);
    } catch (error) {
      chat.dropPending(id);
      chat.composerProblem.value = `“${file.name}” was not sent: ${explain(error, "the upload failed.")}`;
    }
  }

  const download = (attachmentId) => session.downloadAttachment({ attachmentId });

  function typing() {
    // ChatJS sends at most one typing event per 10 s (leading edge), as Connect's own clients do.
    if (session && chat.phase.value === "open") session.sendEvent({ contentType: CT.typing }).catch(() => {});
  }

  async function end() {
    if (!session || chat.phase.value === "ended") return;
    chat.phase.value = "ending";
    const gen = generation;
    // The chat ends when the server's chat.ended event arrives; finish anyway if it does not come.
    const fallback = setTimeout(() => { if (gen === generation && chat.phase.value === "ending") finish(); },
      END_TIMEOUT_MS);
    try {
      await session.disconnectParticipant();
    } catch (error) {
      clearTimeout(fallback);
      if (statusOf(error) === 403 || typeOf(error) === "AccessDeniedException") finish();
      else {
        chat.phase.value = "open";
        chat.composerProblem.value = explain(error, "The chat could not be ended. Try again.");
      }
    }
  }

  /** Leave the ended (or never started) chat behind: the pre-chat form comes back. */
  function reset() {
    generation++;
    clearTimeout(retryTimer);
    save(null);
    session = null;
    details = null;
    unreadIds.length = 0;
    chat.reset();
  }

  return { begin, resume, send, answer, sendFile, download, typing, end, reset, seen };
}
