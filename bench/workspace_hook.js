// The agent workspace benchmark's paint probe (bench/workspace.py), added to the page with Playwright's
// add_init_script before any of the page's own scripts: the workspace itself is not changed.
//
// While bench.phase is "measure", a MutationObserver on the whole document notes when a benchmark message (its text
// starts with STEADY) is shown: its node (data-id = the item's Id) added to the conversation log, or its text shown
// as a chat's last message in the chat list. The next animation frame's callback (raf) and a task posted from that
// callback (post: after the frame's style, layout and paint work) are taken as when it was painted. Each painted
// batch, and each long task, is reported at once through the binding window.__benchReport (Playwright's
// expose_binding), so the benchmark has them even while the page is too busy to answer an evaluate. Arrival on the
// agent's WebSocket is not seen here: that socket lives in the CCP's SharedWorker, whose frames bench/workspace.py
// reads over CDP.
(() => {
  if (window.top !== window) { return; }
  const STEADY = "wsb:s:";
  const bench = {
    phase: "",
    log: new Map(),     // item Id -> { dom, raf, post } (performance.now() of this page)
    prev: new Map(),    // message text -> { dom, raf, post }
  };
  Object.defineProperty(window, "__bench", { value: bench });

  const report = (payload) => {
    if (typeof window.__benchReport === "function") { window.__benchReport(payload).catch(() => {}); }
  };

  const afterPaint = (hits) => {
    requestAnimationFrame(() => {
      const raf = performance.now();
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        const post = performance.now();
        for (const hit of hits) { hit.raf = raf; hit.post = post; }
        channel.port1.close();
        report(["paint", hits]);
      };
      channel.port2.postMessage(0);
    });
  };

  let nav = null;
  const previews = () => {
    if (!nav || !nav.isConnected) { nav = document.querySelector("nav.contact-list"); }
    return nav ? nav.querySelectorAll(".contact-last") : [];
  };

  const observer = new MutationObserver((records) => {
    if (bench.phase !== "measure") { return; }
    const now = performance.now();
    const hits = [];
    const shown = (el) => {
      const id = el.dataset.id;
      if (bench.log.has(id) || !el.textContent.includes(STEADY)) { return; }
      const hit = { kind: "log", key: id, dom: now, raf: null, post: null };
      bench.log.set(id, hit);
      hits.push(hit);
    };
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType !== 1) { continue; }
        if (node.dataset && node.dataset.id) { shown(node); continue; }
        if (node.firstElementChild) { for (const el of node.querySelectorAll("[data-id]")) { shown(el); } }
      }
    }
    for (const el of previews()) {
      const text = el.textContent;
      const at = text.indexOf(STEADY);
      if (at < 0) { continue; }
      const key = text.slice(at);
      if (bench.prev.has(key)) { continue; }
      const hit = { kind: "prev", key, dom: now, raf: null, post: null };
      bench.prev.set(key, hit);
      hits.push(hit);
    }
    if (hits.length) { afterPaint(hits); }
  });
  observer.observe(document, { childList: true, subtree: true, characterData: true });

  try {
    new PerformanceObserver((list) => {
      if (bench.phase !== "measure") { return; }
      report(["long", list.getEntries().map((entry) => [entry.startTime, entry.duration])]);
    }).observe({ type: "longtask", buffered: true });
  } catch (e) { /* no long task timing in this browser */ }
})();
