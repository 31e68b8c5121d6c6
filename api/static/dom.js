/* The page's elements, small DOM helpers, and errors shown in words in the alert region.
 *
 * Safety rule: text from the API goes in through textContent or text nodes only.
 */

const $ = (id) => document.getElementById(id);

export const el = {
  alert: $('alert'),
  keyForm: $('key-form'), keyInput: $('api-key'), keySaved: $('key-saved'), keyHint: $('key-hint'),
  forgetKey: $('forget-key'),
  uploadForm: $('upload-form'), dropzone: $('dropzone'), paper: $('paper'), paperChosen: $('paper-chosen'),
  notes: $('notes'), reviewBox: $('review'), uploadButton: $('upload-button'),
  job: $('job'), jobFile: $('job-file'), progress: $('progress'), progressText: $('progress-text'),
  status: $('status'), download: $('download'),
  review: $('review-card'), reviewFacts: $('review-facts'), reviewWarnings: $('review-warnings'),
  reviewList: $('review-list'), reviewLive: $('review-live'), reviewAdd: $('review-add'), reviewAnswer: $('review-answer'),
  preview: $('preview'), previewBody: $('preview-body'),
  sessions: $('sessions'), sessionsNote: $('sessions-note'), refreshSessions: $('refresh-sessions'),
  moreSessions: $('more-sessions'),
};

// ---------------------------------------------------------------- small DOM helpers

export function node(tag, className, text) {
  const n = document.createElement(tag);
  if (className) n.className = className;
  if (text !== undefined && text !== null) n.textContent = String(text);
  return n;
}

export function clear(n) { while (n.firstChild) n.removeChild(n.firstChild); }

export function hiddenText(text) { return node('span', 'visually-hidden', text); }

/** Text with its line breaks kept, as one element. */
export function lines(tag, className, text) {
  const n = node(tag, className);
  String(text).split('\n').forEach((line, i) => {
    if (i) n.append(document.createElement('br'));
    n.append(line);
  });
  return n;
}

// The parse's warnings as a note to check on the printed paper; null when there are none.
export function warningsNote(warnings) {
  const shown = Array.isArray(warnings) ? warnings.filter((w) => typeof w === 'string' && w) : [];
  if (!shown.length) return null;
  const box = node('div', 'check');
  box.setAttribute('role', 'note');
  box.append(node('p', 'check-title', 'Check these on the printed paper'));
  const list = node('ul', 'check-list');
  for (const warning of shown) list.append(node('li', '', warning));
  box.append(list);
  return box;
}

export function formatMarks(marks) {
  if (typeof marks !== 'number' || !isFinite(marks)) return '';
  const value = Number.isInteger(marks) ? String(marks) : String(Math.round(marks * 100) / 100);
  return `${value} mark${marks === 1 ? '' : 's'}`;
}

export function formatTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (isNaN(date.getTime())) return '';
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A session's status in words (the list's badges and the progress card's status line). */
export const STATUS_LABELS = { queued: 'Queued', running: 'Running', awaiting_review: 'Awaiting your check',
                               complete: 'Complete', failed: 'Failed' };

// ---------------------------------------------------------------- errors, in words

export function showError(headline, error) {
  clear(el.alert);
  const box = node('div', 'alert-box');
  box.append(node('strong', 'alert-headline', headline));
  const detail = error instanceof Error ? error.message : (error ? String(error) : '');
  if (detail) box.append(' ', node('span', 'alert-detail', detail));
  const dismiss = node('button', 'button button-secondary alert-dismiss', 'Dismiss');
  dismiss.type = 'button';
  dismiss.addEventListener('click', clearError);
  box.append(dismiss);
  el.alert.append(box);
}

export function clearError() { clear(el.alert); }
