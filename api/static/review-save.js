/* Saving the checked questions and sending them on: "Answer these questions" PUTs the edited
 * paper (.../paper), then POSTs .../answer and hands the session back to be followed. The
 * API's refusals are shown in words: a 422's detail ({"questions.3.text": "..."}) next to
 * each field and listed in the alert region; marks that are not a number are caught first.
 */

import { api, sessionPath } from './api.js';
import { clearError, el, node, showError } from './dom.js';
import * as model from './review.js';
import { capital, questionName } from './review-item.js';
import { currentReview, setBusy, showFieldErrors } from './review-view.js';
import { refreshSessions } from './sessions.js';

let onAnswered = () => {};

/** `continueWith(id, session)` follows the session once its answering has started. */
export function setupAnswering(continueWith) {
  onAnswered = continueWith;
  el.reviewAnswer.addEventListener('click', () => answer());
}

const FIELD_WORDS = { text: 'text', marks: 'marks', number: 'number' };

/** The API's 422 detail ({"questions.3.text": "..."}) as per-field errors and sentences. */
function readDetail(items, detail) {
  const errors = {};
  const sentences = [];
  for (const [path, message] of Object.entries(detail && typeof detail === 'object' ? detail : {})) {
    const words = String(message);
    const match = /^questions\.(\d+)(?:\.(.+))?$/.exec(path);
    const i = match ? Number(match[1]) : -1;
    if (i >= 0 && i < items.length) {
      const item = items[i];
      const fieldName = match[2] && FIELD_WORDS[match[2]] ? match[2] : 'other';
      errors[item.key] = errors[item.key] || {};
      errors[item.key][fieldName] = fieldName === 'other' && match[2] ? `${match[2]}: ${words}` : words;
      sentences.push(`${capital(questionName(items, i))}, ${FIELD_WORDS[match[2]] || match[2] || 'the question'}: ${words}`);
    } else {
      sentences.push(`${path === 'questions' ? 'The questions' : path || 'The paper'}: ${words}`);
    }
  }
  return { errors: errors, sentences: sentences };
}

function showProblems(headline, sentences) {
  showError(headline, sentences.length === 1 ? sentences[0] : '');
  if (sentences.length > 1) {
    const list = node('ul', 'alert-list');
    for (const sentence of sentences) list.append(node('li', '', sentence));
    const box = el.alert.querySelector('.alert-box');
    box.insertBefore(list, box.querySelector('.alert-dismiss'));
  }
}

/** `errors` next to their fields, the focus on the first; else on the alert's dismiss button. */
function showErrors(errors) {
  if (showFieldErrors(errors)) return;
  const dismiss = el.alert.querySelector('.alert-dismiss');
  if (dismiss) dismiss.focus();
}

async function answer() {
  const state = currentReview();
  if (!state || state.busy) return;
  clearError();
  const wrong = model.invalidMarks(state.items);
  if (wrong.length) {
    const errors = {};
    for (const i of wrong) errors[state.items[i].key] = { marks: 'Marks must be a number, such as 2 or 1.5, or left empty.' };
    showProblems('The questions were not saved.', wrong.map((i) => `${capital(questionName(state.items, i))}, marks: not a number.`));
    showErrors(errors);
    return;
  }
  if (Object.keys(state.errors).length) showFieldErrors({});  // the last refusal's, now stale
  const session = state;
  const sent = state.items;  // a 422's paths index the questions as sent
  const paper = model.toPaper(state.base, sent);
  setBusy(true, 'Saving the questions…');
  try {
    await api(`${sessionPath(session.id)}/paper`, {
      method: 'PUT', body: JSON.stringify(paper), headers: { 'Content-Type': 'application/json' } });
  } catch (error) {
    if (currentReview() !== session) return;
    setBusy(false);
    if (error.status === 422) {
      const { errors, sentences } = readDetail(sent, error.detail);
      showProblems('The questions were not saved.', sentences.length ? sentences : [error.message]);
      showErrors(errors);
    } else if (error.status === 409) {
      showError('These questions can no longer be changed.', error);
      onAnswered(session.id, { filename: session.filename });
    } else {
      showError('The questions were not saved.', error);
    }
    return;
  }
  if (currentReview() !== session) return;
  setBusy(true, 'Starting the answers…');
  try {
    const headers = {};
    if (window.crypto && typeof window.crypto.randomUUID === 'function') headers['Idempotency-Key'] = window.crypto.randomUUID();
    const body = await api(`${sessionPath(session.id)}/answer`, { method: 'POST', headers: headers });
    if (currentReview() !== session) return;
    onAnswered(session.id, Object.assign({ filename: session.filename, status: 'queued', progress: 0, stage: 'queued', message: '' },
                                         body && typeof body === 'object' ? { status: body.status || 'queued' } : {}));
    refreshSessions();
  } catch (error) {
    if (currentReview() !== session) return;
    setBusy(false);
    if (error.status === 409) {
      // Continued already (another tab): follow it.
      onAnswered(session.id, { filename: session.filename });
    } else {
      showError('The questions were saved, but answering did not start.', error);
    }
  }
}
