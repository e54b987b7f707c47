// JSON requests to Parley's own endpoints. A refusal becomes an Error carrying the server's own words
// ({"Code", "Message"}), so screens can show why.
export async function postJson(url, body, headers = {}) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", ...headers },
      body: JSON.stringify(body),
    });
  } catch {
    throw new Error("Parley could not be reached. Check your connection and try again.");
  }
  return answer(response);
}

export async function getJson(url) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  } catch {
    throw new Error("Parley could not be reached. Check your connection and try again.");
  }
  return answer(response);
}

async function answer(response) {
  let data = null;
  try {
    data = await response.json();
  } catch { /* not JSON: described below */ }
  if (response.ok && data) return data;
  const error = new Error((data && (data.Message || data.message)) || `The server answered ${response.status}.`);
  error.code = data && (data.Code || data.__type);
  error.status = response.status;
  throw error;
}
