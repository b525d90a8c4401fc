// The HTTP API, same origin. The API key lives in this tab's sessionStorage only (never localStorage, never a
// cookie) and travels as the API's own 'api-key' header.
const keyStorage = 'rag.console.apiKey';

export const apiKey = {
  get: () => sessionStorage.getItem(keyStorage),
  set: (key) => sessionStorage.setItem(keyStorage, key.trim()),
  clear: () => sessionStorage.removeItem(keyStorage),
};

/** A refused or failed call: status (0 when the server was not reached) and the problem details' detail. */
export class ApiError extends Error {
  constructor(status, detail, problem) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.problem = problem;
  }
}

// Called with the ApiError of every 401, so the page can ask for a key whatever view made the call.
let onUnauthorized = () => {};
export const whenUnauthorized = (handler) => { onUnauthorized = handler; };

/** Sends a request to the API; resolves to the parsed JSON body (or null), rejects with ApiError. */
export async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  const key = apiKey.get();
  if (key) headers['api-key'] = key;
  let payload;
  if (body instanceof FormData) {
    payload = body; // the browser sets multipart/form-data with its boundary
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }

  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, cache: 'no-store' });
  } catch (error) {
    throw new ApiError(0, error.message);
  }

  const text = await response.text();
  let json = null;
  if (text) {
    try { json = JSON.parse(text); } catch { json = null; }
  }

  if (!response.ok) {
    const detail = problemText(json) ?? (text || response.statusText);
    const error = new ApiError(response.status, detail, json);
    if (response.status === 401) onUnauthorized(error);
    throw error;
  }

  return json;
}

// RFC 7807: the detail, then each invalid field's messages (validation problems name the field).
function problemText(problem) {
  if (!problem || typeof problem !== 'object') return null;
  const parts = [problem.detail ?? problem.title].filter(Boolean);
  if (problem.errors && typeof problem.errors === 'object') {
    for (const [field, messages] of Object.entries(problem.errors)) {
      parts.push(`${field}: ${[].concat(messages).join(' ')}`);
    }
  }
  return parts.length ? parts.join(' — ') : null;
}

const segment = encodeURIComponent;

export const api = {
  config: () => call('GET', 'config.json'),
  collections: () => call('GET', '/v1/collections'),
  uploadFiles: (collection, form) => call('POST', `/v1/collections/${segment(collection)}/files`, form),
  job: (id) => call('GET', `/v1/jobs/${segment(id)}`),
  search: (collection, request) => call('POST', `/v1/collections/${segment(collection)}/search`, request),
  context: (collection, request) => call('POST', `/v1/collections/${segment(collection)}/context`, request),
};
