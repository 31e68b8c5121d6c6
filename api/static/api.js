/* Talking to the API: the saved key, fetch() with it, and refusals turned into words.
 *
 * Nothing here touches the page: callers show an ApiError's message (already in words).
 */

export const KEY_STORAGE = 'qagen.apiKey';

// ---------------------------------------------------------------- the key

// Opened from an LMS (api/lti/pages.py): the launch's short-lived token for this teacher stands
// in for a key. It is in the page itself, and never stored: the next launch brings a new one.
const LAUNCH_TOKEN = document.querySelector('meta[name="qagen-launch-token"]')?.content || '';

/** True on a page opened from an LMS, which has no key of its own to save or forget. */
export function launchedFromLms() { return Boolean(LAUNCH_TOKEN); }

let apiKey = readKey();

function readKey() {
  if (LAUNCH_TOKEN) return LAUNCH_TOKEN;
  try { return window.localStorage.getItem(KEY_STORAGE) || ''; } catch (e) { return ''; }
}

/** The key in use ('' when none is saved). */
export function currentKey() { return apiKey; }

/** Keep `value` as the key in this browser ('' forgets it). */
export function storeKey(value) {
  if (LAUNCH_TOKEN) return;
  apiKey = value;
  try {
    if (value) window.localStorage.setItem(KEY_STORAGE, value);
    else window.localStorage.removeItem(KEY_STORAGE);
  } catch (e) { /* storage refused (private mode): the key lives for this page only */ }
}

/** Read the key again (another tab saved or forgot one). */
export function reloadKey() { apiKey = readKey(); }

// ---------------------------------------------------------------- requests

export class ApiError extends Error {
  constructor(message, status, code, retryAfter, detail) {
    super(message);
    this.status = status;
    this.code = code || '';
    this.retryAfter = retryAfter || 0; // seconds, from Retry-After
    this.detail = detail || null; // error.detail, e.g. a 422's {"questions.3.text": "..."}
  }
}

const STATUS_WORDS = {
  400: 'The request was not accepted.',
  401: 'The API key was not accepted. Check it, or ask for a new one.',
  403: 'This API key may not do that.',
  404: 'Not found.',
  409: 'The answers are not ready yet.',
  413: 'The file is too large.',
  415: 'That kind of file cannot be read. Upload a PDF, DOCX, PNG, JPEG or text file.',
  429: 'Too many requests for now.',
};

function describeStatus(status) {
  if (STATUS_WORDS[status]) return STATUS_WORDS[status];
  if (status >= 500) return `The server had a problem (HTTP ${status}). Try again in a moment.`;
  return `The server answered with HTTP ${status}.`;
}

function retryAfter(response) {
  const after = (response.headers.get('Retry-After') || '').trim();
  return /^\d+$/.test(after) ? Number(after) : 0;
}

/** fetch() an /api path with the key; resolve to the JSON body, or reject with an ApiError in words. */
export async function api(path, options) {
  const init = Object.assign({ method: 'GET', cache: 'no-store', credentials: 'omit' }, options || {});
  const key = 'key' in init ? init.key : apiKey;
  delete init.key;
  init.headers = new Headers(init.headers || {});
  init.headers.set('Accept', 'application/json');
  if (key) init.headers.set('Authorization', 'Bearer ' + key);
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError('Could not reach the qagen server. Check your connection and try again.', 0, 'network');
  }
  let body = null;
  if ((response.headers.get('Content-Type') || '').includes('json')) {
    try { body = await response.json(); } catch (e) { body = null; }
  }
  if (!response.ok) {
    const error = body && typeof body === 'object' && body.error && typeof body.error === 'object' ? body.error : null;
    let message = error && typeof error.message === 'string' && error.message ? error.message : describeStatus(response.status);
    const seconds = retryAfter(response);
    if (seconds && (response.status === 429 || response.status === 503)) {
      message += ` Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`;
    }
    throw new ApiError(message, response.status, error && error.code, seconds, error && error.detail);
  }
  return body;
}

// ---------------------------------------------------------------- paths (relative to the page)

export const enc = encodeURIComponent;
export const sessionPath = (id) => `api/v1/sessions/${enc(id)}`;

/** A short-lived token for one session's event stream and download link, which cannot send
 * headers. The key itself never goes in a URL (browser history, proxy logs): the API refuses it. */
export async function sessionToken(id) {
  const body = await api(`${sessionPath(id)}/token`, { method: 'POST' });
  if (!body || typeof body.access_token !== 'string') throw new ApiError('The server did not issue a link token.', 0);
  return body.access_token;
}

/** `path` with a token from sessionToken(). */
export const withToken = (path, token) => `${path}?access_token=${enc(token)}`;
