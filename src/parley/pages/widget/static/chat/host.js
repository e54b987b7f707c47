// The chat window's side of its link with the page that embeds it (loader.js): the page says when the window
// opens or closes, may give the customer's name and a signed token (JWT); the window reports the unread count
// (a number, never message text), asks to be closed, and — when the browser blocks storage in this frame, as it
// does for third-party frames — hands the chat's connection details to the page to keep across reloads. Messages go only to the parent's origin, and are read
// only from it, when that origin is one the widget allows (CSP frame-ancestors already keeps others out).
import { signal } from "@preact/signals";

const TAG = "parley-widget";
const TOKEN_WAIT_MS = 10000;
const MAX_NAME = 100;
const HELLO_WAIT_MS = 3000;

export function connectHost({ widgetId, allowedOrigins }) {
  const framed = window.parent !== window;
  const claimed = new URLSearchParams(location.search).get("origin");
  const ancestor = location.ancestorOrigins && location.ancestorOrigins.length ? location.ancestorOrigins[0] : null;
  const parentOrigin = framed ? ancestor || claimed : null;
  const trusted = !!parentOrigin && (parentOrigin === location.origin || allowedOrigins.includes(parentOrigin));
  const host = { embedded: framed && trusted, name: signal(""), open: signal(!framed), session: null };
  const waiting = [];
  let greeted;
  /** Resolves once the host page has said hello (at once when there is no host page; after 3 s at most). */
  host.ready = new Promise((resolve) => {
    greeted = resolve;
    if (!host.embedded) resolve();
    setTimeout(resolve, HELLO_WAIT_MS);
  });

  const post = (message) => {
    if (host.embedded) window.parent.postMessage({ [TAG]: widgetId, ...message }, parentOrigin);
  };

  window.addEventListener("message", (event) => {
    const data = event.data;
    if (!host.embedded || event.source !== window.parent || event.origin !== parentOrigin) return;
    if (!data || data[TAG] !== widgetId) return;
    if (data.type === "hello" || data.type === "visibility") host.open.value = !!data.open;
    if (data.type === "hello") {
      if (typeof data.name === "string") host.name.value = data.name.trim().slice(0, MAX_NAME);
      if (data.session && typeof data.session === "object") host.session = data.session;
      greeted();
    }
    if (data.type === "token") while (waiting.length) waiting.shift()(typeof data.token === "string" ? data.token : null);
  });

  /** A fresh token from the host page (null when it gives none within 10 s). */
  host.token = () => new Promise((resolve) => {
    if (!host.embedded) return resolve(null);
    waiting.push(resolve);
    setTimeout(() => resolve(null), TOKEN_WAIT_MS);
    post({ type: "need-token" });
  });
  host.close = () => post({ type: "close" });
  host.unread = (count) => post({ type: "unread", count });
  host.chatting = (active) => post({ type: "chat", active });
  /** Keep the chat's details in the host page (when this frame may not use storage itself). */
  host.keep = (session) => post({ type: "session", session });
  post({ type: "ready" });
  return host;
}
