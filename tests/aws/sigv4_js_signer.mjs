// Signs Connect API requests with the AWS SDK for JavaScript v3's SigV4 signer (@smithy/signature-v4, the
// signer every v3 client uses) and sends them with fetch. Input (argv[2], JSON): {url, region, requests:
// [{method, path, query, body}]}; output (stdout, JSON): [{status, body}] in the same order.
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

// RFC 3986 escaping, as the SDK's query-string builder writes a query.
const escape = (text) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const { url, region, requests } = JSON.parse(process.argv[2]);
const target = new URL(url);
const signer = new SignatureV4({
  service: "connect", region, sha256: Sha256, credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
const results = [];
for (const { method, path, query = {}, body } of requests) {
  const headers = { host: target.host };
  if (body !== undefined) headers["content-type"] = "application/json";
  const signed = await signer.sign({
    method, protocol: target.protocol, hostname: target.hostname, port: Number(target.port), path, query, headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const qs = Object.entries(query).map(([k, v]) => `${escape(k)}=${escape(v)}`).join("&");
  const { host, ...sent } = signed.headers;
  const response = await fetch(`${url}${path}${qs ? `?${qs}` : ""}`, { method, headers: sent, body: signed.body });
  results.push({ status: response.status, body: await response.text() });
}
process.stdout.write(JSON.stringify(results));
