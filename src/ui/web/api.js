// The one way the UI talks to logpipe: fetch with the key in a header (never a cookie, so a
// forged cross-site request carries nothing), JSON errors turned into ApiError, and a 401 that
// asks the person for a key and tries again.
const KEY_ITEM = 'logpipe.key';

// The key lives as long as the browser tab's session: closing the tab forgets it.
export function storedKey() {
  return sessionStorage.getItem(KEY_ITEM) || '';
}
export function storeKey(key) {
  if (key) sessionStorage.setItem(KEY_ITEM, key);
  else sessionStorage.removeItem(KEY_ITEM);
}

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || [];
  }
  // What to show a person: a 403 names the scope the key lacks (the server's message does).
  get summary() {
    if (this.status === 403) return `Not allowed with this key: ${this.message}`;
    if (this.status === 0) return `The server did not answer: ${this.message}`;
    return this.message;
  }
  // The message of the field named `field` in a 422's details, or ''.
  about(field) {
    const detail = this.details.find((d) => d.field === field);
    return detail ? detail.message : '';
  }
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's page): the status line is all there is.
  }
  const error = body && body.error;
  if (error && typeof error === 'object')
    return new ApiError(response.status, error.code, error.message || response.statusText, error.details);
  return new ApiError(response.status, 'http_' + response.status, `${response.status} ${response.statusText}`);
}

// Set by the app: shows the key dialog and resolves to true once a key was entered.
let askForKey = async () => false;
export function onKeyNeeded(handler) {
  askForKey = handler;
}

// A request to the API. `query`: an object or URLSearchParams; `body`: sent as JSON; `raw`: the
// Response itself (for streams and downloads); `accept`: error statuses whose JSON body is an
// answer too (GET /health's 503 says which dependency is down). Rejects with ApiError.
export async function api(path, { method = 'GET', query, body, signal, raw = false, accept = [] } = {}) {
  const search = query ? new URLSearchParams(query).toString() : '';
  const url = search ? `${path}?${search}` : path;
  for (;;) {
    const headers = { Accept: 'application/json' };
    const key = storedKey();
    if (key) headers['X-API-Key'] = key;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        credentials: 'omit',
      });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(0, 'network', e.message);
    }
    if (response.status === 401) {
      const error = await errorOf(response);
      if (await askForKey(error.message)) continue;
      throw error;
    }
    if (!response.ok && !accept.includes(response.status)) throw await errorOf(response);
    if (raw) return response;
    if (response.status === 204) return null;
    return response.json();
  }
}

// Whether `error` is the fetch being cancelled (a newer search replaced it): not worth showing.
export function aborted(error) {
  return error && error.name === 'AbortError';
}
