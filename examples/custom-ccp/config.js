// Where Parley runs and which quick connect the "Quick Connect" button uses; both can come from the URL:
// ?parley=http://127.0.0.1:8800&qc=Transfer-to-agent-2
(function () {
  var params = new URLSearchParams(location.search);
  window.PARLEY = {
    url: (params.get("parley") || "http://127.0.0.1:8800").replace(/\/$/, ""),
    region: params.get("region") || "us-west-2",
    quickConnect: params.get("qc") || "Transfer-to-agent-2"
  };
})();
