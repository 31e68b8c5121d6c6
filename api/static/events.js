/* Following one session: its event stream (EventSource), polling when that is refused or
 * cut, and the progress card (bar, percentage, live status line, the tab's title). A session
 * that stops for the teacher's check (awaiting_review) opens the review editor.
 */

import { api, sessionPath, sessionToken, withToken } from './api.js';
import { STATUS_LABELS, clear, el, showError } from './dom.js';
import { loadPreview } from './preview.js';
import { closeReview, openReview } from './review-view.js';
import { refreshSessions } from './sessions.js';

const POLL_MS = 1000;
export const PAGE_TITLE = document.title;

let current = null; // {id, events, timer, finished}

export function stopFollowing() {
  if (!current) return;
  if (current.events) current.events.close();
  if (current.timer) window.clearTimeout(current.timer);
  current = null;
}

export function follow(id, initial) {
  stopFollowing();
  const job = { id: id, events: null, timer: null, finished: false, lastStatus: '', lastStage: '' };
  current = job;
  el.job.hidden = false;
  el.download.hidden = true;
  el.preview.hidden = true;
  clear(el.previewBody);
  closeReview();
  el.jobFile.textContent = (initial && initial.filename) || '';
  render(job, Object.assign({ session_id: id, status: 'queued', progress: 0, stage: 'queued', message: '' }, initial || {}));
  el.job.scrollIntoView({ block: 'nearest' });
  if (initial && ['complete', 'failed', 'awaiting_review'].includes(initial.status)) {
    // Already finished or waiting for the teacher (picked from the list): nothing to follow.
    update(job, Object.assign({ session_id: id }, initial), true);
    return;
  }

  if (typeof window.EventSource !== 'function') { poll(job); return; }
  stream(job);
}

/** The event stream, opened with a token for this session (EventSource cannot send the key). */
async function stream(job) {
  let token;
  try {
    token = await sessionToken(job.id);
  } catch (e) {
    // Refused or unreachable: polling carries on, and reports what stays wrong.
    if (current === job && !job.finished && !job.timer) poll(job);
    return;
  }
  if (current !== job || job.finished) return;
  let events;
  try {
    events = new EventSource(withToken(`${sessionPath(job.id)}/events`, token));
  } catch (e) {
    poll(job);
    return;
  }
  job.events = events;
  const handle = (message) => {
    if (current !== job) return;
    let session;
    try { session = JSON.parse(message.data); } catch (e) { return; }
    update(job, session);
  };
  events.addEventListener('progress', handle);
  events.addEventListener('done', (message) => { events.close(); job.events = null; handle(message); });
  // Parsed, waiting for the teacher's check: the stream ends; it is opened again after "Answer these questions".
  events.addEventListener('review', (message) => { events.close(); job.events = null; handle(message); });
  // The session expired or was deleted: polling reports the API's message.
  events.addEventListener('gone', () => { events.close(); job.events = null; if (!job.timer) poll(job); });
  events.addEventListener('error', () => {
    // Refused, cut or unsupported: polling carries on from here.
    if (current !== job || job.finished) return;
    events.close();
    job.events = null;
    if (!job.timer) poll(job);
  });
}

async function poll(job) {
  job.timer = null;
  if (current !== job || job.finished) return;
  let delay = POLL_MS;
  try {
    update(job, await api(sessionPath(job.id)));
  } catch (error) {
    if (error.status === 0 || error.status === 429 || error.status >= 500) {
      el.progressText.textContent = `${error.message} Still trying…`;
      delay = Math.max(POLL_MS * 3, error.retryAfter * 1000);
    } else {
      showError('Could not follow the paper’s progress.', error);
      return;
    }
  }
  if (current === job && !job.finished) job.timer = window.setTimeout(() => poll(job), delay);
}

function render(job, session) {
  const progress = Math.max(0, Math.min(100, Math.round(Number(session.progress) || 0)));
  el.progress.value = progress;
  el.progress.textContent = `${progress}%`;
  const words = session.message || (session.stage && session.stage !== session.status ? session.stage : '');
  el.progressText.textContent = words ? `${progress}% · ${words}` : `${progress}%`;
  if (session.filename) el.jobFile.textContent = session.filename;
  // The tab's title shows how far it is, for a teacher working in another tab.
  const titles = { complete: 'Answers ready', failed: 'Failed', awaiting_review: 'Check the questions' };
  document.title = `${titles[session.status] || `${progress}%`} · ${PAGE_TITLE}`;
  // The live status line changes with the status or stage only, so screen readers are not flooded.
  if (session.status !== job.lastStatus || session.stage !== job.lastStage) {
    job.lastStatus = session.status;
    job.lastStage = session.stage;
    const label = (STATUS_LABELS[session.status] || session.status || 'unknown').toLowerCase();
    let text = `Status: ${label}.`;
    if (session.status === 'queued') text += ' Waiting for a free worker.';
    else if (session.status === 'running' && session.stage) text += ` Stage: ${session.stage}.`;
    else if (session.status === 'complete') {
      const count = session.question_count;
      text += ` The answers are ready${count ? ` (${count} question${count === 1 ? '' : 's'})` : ''}.`;
    }
    else if (session.status === 'failed') text += ' See the message above.';
    else if (session.status === 'awaiting_review') text += ' Check the questions below, then choose “Answer these questions”.';
    el.status.textContent = text;
    el.status.dataset.status = session.status || '';
  }
}

function update(job, session, alreadyListed) {
  if (!session || typeof session !== 'object' || session.session_id !== job.id || job.finished) return;
  render(job, session);
  if (session.status === 'complete') {
    finish(job);
    el.download.hidden = false;
    el.download.dataset.session = job.id;
    loadPreview(job.id, () => Boolean(current) && current.id === job.id);
    if (!alreadyListed) refreshSessions();
  } else if (session.status === 'awaiting_review') {
    finish(job);
    openReview(Object.assign({ filename: el.jobFile.textContent }, session), () => Boolean(current) && current.id === job.id);
    if (!alreadyListed) refreshSessions();
  } else if (session.status === 'failed') {
    finish(job);
    showError('The paper could not be answered.', session.error || 'The job failed without a reason.');
    if (!alreadyListed) refreshSessions();
  }
}

function finish(job) {
  job.finished = true;
  if (job.events) { job.events.close(); job.events = null; }
  if (job.timer) { window.clearTimeout(job.timer); job.timer = null; }
}
