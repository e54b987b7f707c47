// The live view's connection state: while its panels' poll fails (the server restarting, the network gone, the
// session ended), a status line says the figures are not current; it clears with the next update.
const state = () => document.querySelector("[data-live-state]");

function say(text) {
  const line = state();
  if (line && line.textContent !== text) line.textContent = text;
}

function fromPanels(event) {
  const target = event.detail && event.detail.elt;
  return target instanceof Element && target.id === "live-panels";
}

document.addEventListener("htmx:sendError", (event) => {
  if (fromPanels(event)) say("Not updating: Parley cannot be reached. Retrying every second…");
});
document.addEventListener("htmx:responseError", (event) => {
  if (!fromPanels(event)) return;
  const status = event.detail.xhr ? event.detail.xhr.status : 0;
  say(status === 403 ? "Not updating: you may no longer view real-time metrics. Reload the page."
    : "Not updating: the server answered with an error. Retrying every second…");
});
document.addEventListener("htmx:afterSwap", (event) => {
  if (fromPanels(event)) say("");
});
