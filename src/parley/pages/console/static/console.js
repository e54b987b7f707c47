// Copy buttons of the admin console: <button data-copy="value">. Copies with the Clipboard API; where the page is
// not a secure context (plain http on another host) the value is selected instead, for Ctrl+C / Cmd+C.
const status = () => document.getElementById("copy-status");

function say(text) {
  const region = status();
  if (region) region.textContent = text;
}

function selectNear(button) {
  const code = button.parentElement && button.parentElement.querySelector("code, textarea, input");
  if (!code) return false;
  const range = document.createRange();
  range.selectNodeContents(code);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  return true;
}

function flash(button, text) {
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  button.textContent = text;
  window.setTimeout(() => { button.textContent = label; }, 1500);
}

document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("button[data-copy]") : null;
  if (!button) return;
  const value = button.getAttribute("data-copy") || "";
  const what = (button.getAttribute("aria-label") || "Copy").replace(/^Copy /, "");
  try {
    if (!navigator.clipboard) throw new Error("no clipboard");
    await navigator.clipboard.writeText(value);
    flash(button, "Copied");
    say(`Copied ${what}.`);
  } catch {
    if (selectNear(button)) say(`Selected ${what}: press Ctrl+C (or Cmd+C) to copy it.`);
  }
});
