/* The recent papers list: the tenant's sessions, newest first, a page at a time, each with
 * its status and buttons to show (follow) it or download its answers.
 */

import { api, currentKey } from './api.js';
import { STATUS_LABELS, clear, clearError, el, formatTime, hiddenText, node } from './dom.js';
import { download } from './download.js';

const SESSIONS_PAGE = 20;

let nextCursor = null;
let sessionsRequest = 0;
let showSession = () => {};

/** `onShow(session)` is called when a paper's "Show answers" / "Follow" button is chosen. */
export function setupSessions(onShow) {
  showSession = onShow;
  el.refreshSessions.addEventListener('click', () => refreshSessions());
  el.moreSessions.addEventListener('click', () => refreshSessions(true));
}

export async function refreshSessions(append) {
  if (!currentKey()) {
    clear(el.sessions);
    el.moreSessions.hidden = true;
    el.sessionsNote.textContent = 'Save your API key to see your recent papers.';
    return;
  }
  const request = ++sessionsRequest;
  const query = new URLSearchParams({ limit: String(SESSIONS_PAGE) });
  if (append && nextCursor) query.set('cursor', nextCursor);
  el.sessionsNote.textContent = 'Loading your recent papers…';
  try {
    const body = await api(`api/v1/sessions?${query}`);
    if (request !== sessionsRequest) return;
    const sessions = Array.isArray(body && body.sessions) ? body.sessions : [];
    // Keep the keyboard focus on the same button when the list is redrawn under it.
    const focused = el.sessions.contains(document.activeElement) ? document.activeElement : null;
    const focusKey = focused && focused.closest('li') ? [focused.closest('li').dataset.session, focused.dataset.action] : null;
    if (!append) clear(el.sessions);
    for (const session of sessions) el.sessions.append(renderSession(session));
    if (focusKey) {
      const again = Array.from(el.sessions.querySelectorAll('button')).find(
        (b) => b.closest('li').dataset.session === focusKey[0] && b.dataset.action === focusKey[1]);
      (again || el.refreshSessions).focus();
    }
    nextCursor = (body && body.next_cursor) || null;
    el.moreSessions.hidden = !nextCursor;
    const count = el.sessions.children.length;
    el.sessionsNote.textContent = count ? `${count} paper${count === 1 ? '' : 's'}, newest first.` : 'No papers yet: upload one above.';
  } catch (error) {
    if (request !== sessionsRequest) return;
    el.sessionsNote.textContent = `The list of recent papers cannot be shown: ${error.message}`;
  }
}

function renderSession(session) {
  const li = node('li', 'session');
  li.dataset.session = String(session.session_id);
  const name = session.filename || session.session_id;
  const top = node('div', 'session-top');
  top.append(node('span', 'session-name', name));
  const known = Object.prototype.hasOwnProperty.call(STATUS_LABELS, session.status);
  const badge = node('span', `badge badge-${known ? session.status : 'other'}`, known ? STATUS_LABELS[session.status] : 'Unknown');
  top.append(badge);
  li.append(top);

  const details = [];
  const when = formatTime(session.created_at);
  if (when) details.push(when);
  if (session.status === 'running' || session.status === 'queued') {
    const percent = `${Math.round(Number(session.progress) || 0)}%`;
    details.push(session.message ? `${percent} · ${session.message}` : percent);
  }
  if ((session.status === 'complete' || session.status === 'awaiting_review') && session.question_count) {
    details.push(`${session.question_count} question${session.question_count === 1 ? '' : 's'}`);
  }
  if (details.length) li.append(node('p', 'session-details', details.join(' · ')));
  if (session.status === 'failed' && session.error) li.append(node('p', 'session-error', session.error));

  const actions = node('div', 'session-actions');
  const show = node('button', 'button button-secondary');
  show.type = 'button';
  show.dataset.action = 'show';
  const showWords = { complete: 'Show answers', awaiting_review: 'Check the questions' };
  show.append(showWords[session.status] || 'Follow', hiddenText(` for ${name}`));
  show.addEventListener('click', () => {
    clearError();
    showSession(session);
  });
  actions.append(show);
  if (session.status === 'complete') {
    const get = node('button', 'button button-secondary');
    get.type = 'button';
    get.dataset.action = 'download';
    get.append('Download PDF', hiddenText(` of the answers to ${name}`));
    get.addEventListener('click', () => download(session.session_id, get));
    actions.append(get);
  }
  li.append(actions);
  return li;
}
