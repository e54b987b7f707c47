// Where Parley runs, which instance's CCP to frame, which quick connect the "Quick Connect" button uses and,
// optionally, which of the library versions Parley serves the page loads; all can come from the URL:
// ?parley=http://127.0.0.1:8800&instance=demo&qc=Transfer-to-agent-2&streams=2.18.1&chatjs=3.0.3
// Every value is checked before use (the page never writes a URL parameter into HTML), then the libraries and
// agent.js are loaded in order with DOM APIs.
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var DEFAULT_PARLEY = "http://127.0.0.1:8800";
  // The page runs the scripts of the Parley it names, so ?parley= may name only a Parley on this page's own host
  // name (any port) or one listed here: a link to this page cannot make it run another site's scripts. Add your
  // Parley's origin here when it runs on another host (e.g. behind TLS).
  var TRUSTED_PARLEYS = [DEFAULT_PARLEY, "http://localhost:8800"];
  var version = function (name) {
    var value = params.get(name) || "";
    return /^[0-9]{1,4}(\.[0-9]{1,4}){0,3}$/.test(value) ? value : "";
  };
  // Only an http(s) origin (scheme://host[:port], an optional trailing "/") on this host or trusted above: no
  // path, query, user info or markup.
  function parleyOrigin(value) {
    if (!value) { return DEFAULT_PARLEY; }
    var url;
    try { url = new URL(value); } catch (e) { return null; }
    if ((url.protocol !== "http:" && url.protocol !== "https:") || url.username || url.password ||
        url.pathname !== "/" || url.search || url.hash || value.replace(/\/$/, "") !== url.origin) {
      return null;
    }
    if (url.hostname !== location.hostname && TRUSTED_PARLEYS.indexOf(url.origin) < 0) { return null; }
    return url.origin;
  }
  var given = params.get("parley");
  var url = parleyOrigin(given);
  var problem = url === null ? "Ignored ?parley=: not an http(s) origin on this host (or listed in config.js), such as " +
    DEFAULT_PARLEY + "." : "";
  url = url || DEFAULT_PARLEY;
  var instance = params.get("instance") || "demo";
  if (!/^[A-Za-z0-9-]{1,64}$/.test(instance)) {
    problem = "Ignored ?instance=: not an instance alias or id.";
    instance = "demo";
  }
  var region = params.get("region") || "us-west-2";
  if (!/^[a-z]{2}(-[a-z]+)+-[0-9]$/.test(region)) { region = "us-west-2"; }
  var streams = version("streams");
  var chatjs = version("chatjs");
  window.PARLEY = {
    url: url,
    instance: instance,
    // The instance's own CCP: only that instance's approved origins may frame it (like <alias>.my.connect.aws).
    ccpUrl: url + "/connect/" + encodeURIComponent(instance) + "/ccp-v2/",
    region: region,
    quickConnect: params.get("qc") || "Transfer-to-agent-2",
    // Without a version: the newest StreamsJS and ChatJS Parley serves.
    streamsUrl: url + (streams ? "/lib/streams/" + streams + "/connect-streams.js" : "/lib/connect-streams.js"),
    chatjsUrl: url + (chatjs ? "/lib/chatjs/" + chatjs + "/amazon-connect-chat.js" : "/lib/amazon-connect-chat.js"),
    problem: problem
  };
  if (problem) { document.getElementById("notice").textContent = problem; }

  // StreamsJS first, then ChatJS (both define window.connect.*), then the page's logic: dynamically inserted
  // scripts with async = false run in insertion order.
  [window.PARLEY.streamsUrl, window.PARLEY.chatjsUrl, "agent.js"].forEach(function (src) {
    var script = document.createElement("script");
    script.src = src;
    script.async = false;
    document.body.appendChild(script);
  });
})();
