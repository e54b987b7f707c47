// Where Parley runs, which quick connect the "Quick Connect" button uses and, optionally, which of the
// library versions Parley serves the page loads; all can come from the URL:
// ?parley=http://127.0.0.1:8800&qc=Transfer-to-agent-2&streams=2.18.1&chatjs=3.0.3
(function () {
  var params = new URLSearchParams(location.search);
  var version = function (name) {
    var value = params.get(name) || "";
    return /^[0-9]+(\.[0-9]+)*$/.test(value) ? value : "";
  };
  var url = (params.get("parley") || "http://127.0.0.1:8800").replace(/\/$/, "");
  var streams = version("streams");
  var chatjs = version("chatjs");
  window.PARLEY = {
    url: url,
    region: params.get("region") || "us-west-2",
    quickConnect: params.get("qc") || "Transfer-to-agent-2",
    // Without a version: the newest StreamsJS and ChatJS Parley serves.
    streamsUrl: url + (streams ? "/lib/streams/" + streams + "/connect-streams.js" : "/lib/connect-streams.js"),
    chatjsUrl: url + (chatjs ? "/lib/chatjs/" + chatjs + "/amazon-connect-chat.js" : "/lib/amazon-connect-chat.js")
  };
})();
