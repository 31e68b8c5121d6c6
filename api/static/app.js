/* qagen's page for teachers: the REST API, in a browser, with no build step.
 *
 * Safety rule: everything that comes from the API (file names, messages, questions,
 * answers) reaches the page through textContent or DOM nodes built here, never innerHTML.
 * The page runs under a Content-Security-Policy without inline script.
 *
 * This module is the entry point (index.html loads it with <script type="module">): it
 * handles the API key and wires the page together. The rest, one job per module:
 *   api.js       the saved key, fetch() with it, refusals in words (ApiError)
 *   dom.js       the page's elements, DOM and formatting helpers, the alert region
 *   upload.js    the drop zone, the notes and the upload
 *   events.js    following one session: event stream, polling fallback, progress card
 *   preview.js   the answered paper, shown as text
 *   review.js    the review editor's model: the questions and their edits, as pure functions
 *   review-view.js  the review editor on the page: the list, its focus and announcements
 *   review-save.js  saving the checked questions (refusals by the fields) and answering them
 *   markup.js    answers' light Markdown and $…$ maths as DOM nodes
 *   sessions.js  the recent papers list
 *   download.js  downloading the answered PDF
 */

import { KEY_STORAGE, api, currentKey, launchedFromLms, reloadKey, storeKey } from './api.js';
import { clear, clearError, el, showError } from './dom.js';
import { download } from './download.js';
import { PAGE_TITLE, follow, stopFollowing } from './events.js';
import { setupAnswering } from './review-save.js';
import { closeReview, setupReview } from './review-view.js';
import { refreshSessions, setupSessions } from './sessions.js';
import { setupUpload } from './upload.js';

// ---------------------------------------------------------------- the key

function writeKey(value) {
  storeKey(value);
  showKeyState();
}

function showKeyState() {
  if (launchedFromLms()) {  // opened from an LMS: the launch is the permission, there is no key to show
    const card = el.keyForm.closest('section');
    if (!card.hidden) {
      card.hidden = true;
      for (const step of document.querySelectorAll('.step')) step.textContent = String(Number(step.textContent) - 1);
    }
    return;
  }
  const key = currentKey();
  const saved = Boolean(key);
  el.keyForm.hidden = saved;
  el.keySaved.hidden = !saved;
  el.keyHint.textContent = saved ? maskKey(key) : '';
}

function maskKey(key) {
  return key.length <= 8 ? '••••' : key.slice(0, 3) + '…' + key.slice(-4);
}

// ---------------------------------------------------------------- wiring

el.keyForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const value = el.keyInput.value.trim();
  if (!value) {
    showError('The API key is empty.', 'Paste the key you were given, then choose “Save key”.');
    el.keyInput.focus();
    return;
  }
  clearError();
  const button = el.keyForm.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    // Check the key before keeping it; if the server cannot answer now, keep it anyway.
    await api('api/v1/sessions?limit=1', { key: value });
  } catch (error) {
    if (error.status === 401 || error.status === 403) {
      showError('This key was not accepted.', error);
      el.keyInput.focus();
      return;
    }
  } finally {
    button.disabled = false;
  }
  el.keyInput.value = '';
  writeKey(value);
  el.forgetKey.focus();
  refreshSessions();
});

el.forgetKey.addEventListener('click', () => {
  stopFollowing();
  closeReview();
  document.title = PAGE_TITLE;
  writeKey('');
  clear(el.sessions);
  el.job.hidden = true;
  el.preview.hidden = true;
  clear(el.previewBody);
  clearError();
  refreshSessions();
  el.keyInput.focus();
});

el.download.addEventListener('click', () => {
  if (el.download.dataset.session) download(el.download.dataset.session, el.download);
});
window.addEventListener('storage', (event) => {
  if (event.key === KEY_STORAGE) { reloadKey(); showKeyState(); refreshSessions(); }
});

setupSessions((session) => {
  clearError();
  follow(session.session_id, session);
});
setupReview();
setupAnswering((id, initial) => {
  follow(id, initial);
  // The editor is gone: the focus goes to the progress it started.
  document.getElementById('job-heading').focus();
});
setupUpload();
showKeyState();
refreshSessions();
if (launchedFromLms()) {
  // Opened from an LMS, the page has a <base> (api/lti/pages.py), against which "#main" would
  // leave it: an in-page link moves the focus itself.
  for (const link of document.querySelectorAll('a[href^="#"]')) {
    link.addEventListener('click', (event) => {
      const target = document.getElementById(link.getAttribute('href').slice(1));
      if (!target) return;
      event.preventDefault();
      target.focus();
    });
  }
}
