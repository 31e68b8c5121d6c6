/* The review editor on the page: with "Let me check the questions first" ticked, the parsed
 * questions appear as an editable list once parsing ends (GET .../paper).
 *
 * The list's edits are review.js's pure functions and each question's controls are drawn by
 * review-item.js; this module holds the list being edited, redraws it after each edit, keeps
 * the focus where the teacher works and announces each change in a live region. Saving and
 * answering (PUT, POST, the API's refusals next to the fields) are review-save.js's.
 * Everything from the API goes in as text.
 */

import { api, sessionPath } from './api.js';
import { clear, el, warningsNote } from './dom.js';
import { capital, fieldId, mergeWords, questionName, renderItem } from './review-item.js';
import * as model from './review.js';

let state = null; // {id, filename, base, items, errors: {key: {field: message}}, busy}

export function setupReview() {
  el.reviewAdd.addEventListener('click', () => addQuestion());
}

/** The session in review: {id, filename, base, items, errors, busy}, or null. */
export function currentReview() { return state; }

/** Hide the editor and forget its session. */
export function closeReview() {
  state = null;
  el.review.hidden = true;
  clear(el.reviewList);
  clear(el.reviewWarnings);
  el.reviewFacts.textContent = '';
  el.reviewLive.textContent = '';
  el.reviewAnswer.disabled = false;
  el.reviewAnswer.textContent = 'Answer these questions';
  el.reviewAnswer.parentElement.hidden = true;  // no buttons before there are questions
}

/** Load session `session.session_id`'s parsed paper into the editor; `stillWanted()` says
 * whether it is still the session to show once loaded. */
export async function openReview(session, stillWanted) {
  closeReview();
  const id = session.session_id;
  el.review.hidden = false;
  el.reviewFacts.textContent = 'Loading the questions…';
  el.review.setAttribute('aria-busy', 'true');
  try {
    const paper = await api(`${sessionPath(id)}/paper`);
    if (!stillWanted()) return;
    const { base, items } = model.fromPaper(paper);
    state = { id: id, filename: session.filename || '', base: base, items: items, errors: {}, busy: false };
    renderHead();
    renderList();
    el.reviewAnswer.parentElement.hidden = false;
  } catch (error) {
    if (!stillWanted()) return;
    el.reviewFacts.textContent = `The questions cannot be shown: ${error.message}`;
  } finally {
    el.review.removeAttribute('aria-busy');
  }
}

// ---------------------------------------------------------------- drawing

function renderHead() {
  const { base, items } = state;
  const facts = [`${items.length} question${items.length === 1 ? '' : 's'} found`];
  if (base.title) facts.unshift(`“${base.title}”`);
  if (typeof base.confidence === 'string' && base.confidence) facts.push(`parse confidence: ${base.confidence}`);
  el.reviewFacts.textContent = facts.join(' · ');
  clear(el.reviewWarnings);
  const warnings = warningsNote(base.warnings);
  if (warnings) el.reviewWarnings.append(warnings);
}

function renderList() {
  clear(el.reviewList);
  state.items.forEach((item, i) => el.reviewList.append(renderItem(state.items, i, state.errors[item.key] || {}, handlers)));
  el.reviewAnswer.disabled = false;
}

const handlers = { edit: onEdit, act: onAction };

/** Keep the model in step with what is typed; the number also renames the question's labels. */
function onEdit(key, name, control) {
  const i = indexOf(key);
  if (i < 0) return;
  state.items = model.edit(state.items, i, { [name]: control.value });
  const errors = state.errors[key];
  if (errors && errors[name]) {
    delete errors[name];
    control.removeAttribute('aria-invalid');
    control.removeAttribute('aria-describedby');
    const line = document.getElementById(`${control.id}-error`);
    if (line) line.remove();
  }
  if (name === 'number') relabel(i);
}

/** Rename question i (and the next one's merge button) after its number changed. */
function relabel(i) {
  const li = el.reviewList.children[i];
  const fresh = renderItem(state.items, i, {}, { edit() {}, act() {} });
  li.querySelector('.rq-title').textContent = fresh.querySelector('.rq-title').textContent;
  const oldHidden = li.querySelectorAll('label .visually-hidden, button .visually-hidden');
  const newHidden = fresh.querySelectorAll('label .visually-hidden, button .visually-hidden');
  oldHidden.forEach((span, k) => { if (newHidden[k]) span.textContent = newHidden[k].textContent; });
  const next = el.reviewList.children[i + 1];
  if (next) {
    const merge = next.querySelector('button[data-action="merge"] .visually-hidden');
    if (merge) merge.textContent = ` (${mergeWords(state.items, i + 1)})`;
  }
}

/** A question's button: `why` says why it is unavailable there (it stays focusable, aria-disabled). */
function onAction(key, name, words, why) {
  if (state.busy) return;
  if (why) { announce(`${words} is not possible: ${why}`); return; }
  const run = { merge: doMerge, split: doSplit, remove: doRemove,
                up: () => doMove(key, -1), down: () => doMove(key, 1) }[name];
  run(key);
}

// ---------------------------------------------------------------- edits

const indexOf = (key) => (state ? state.items.findIndex((item) => item.key === key) : -1);

function announce(words) {
  // Cleared first, so the same words said twice are announced twice.
  el.reviewLive.textContent = '';
  window.setTimeout(() => { el.reviewLive.textContent = words; }, 30);
}

/** Redraw, then put the focus on `field` of the item `key` (caret at `caret` in a text area). */
function redraw(key, fieldName, caret) {
  renderHead();
  renderList();
  const item = state.items.find((it) => it.key === key);
  let target = null;
  if (item && fieldName.startsWith('button:')) {
    const li = el.reviewList.querySelector(`li[data-key="${key}"]`);
    target = li && li.querySelector(`button[data-action="${fieldName.slice(7)}"]`);
  } else if (item) {
    target = document.getElementById(fieldId(item, fieldName));
  }
  target = target || el.reviewAdd;
  target.focus();
  if (typeof caret === 'number' && target.setSelectionRange) target.setSelectionRange(caret, caret);
}

function doMerge(key) {
  const i = indexOf(key);
  if (i < 1) return;
  const name = questionName(state.items, i);
  const prev = state.items[i - 1];
  const caret = prev.question.text.replace(/\s+$/, '').length;
  state.items = model.merge(state.items, i);
  redraw(prev.key, 'text', caret);
  announce(`${capital(name)} merged into ${questionName(state.items, i - 1)}. ${state.items.length} questions.`);
}

function doSplit(key) {
  const i = indexOf(key);
  if (i < 0) return;
  const textarea = document.getElementById(fieldId(state.items[i], 'text'));
  const offset = textarea ? textarea.selectionStart : 0;
  const name = questionName(state.items, i);
  const next = model.split(state.items, i, offset);
  if (next === state.items) {
    announce(`Put the cursor in the text of ${name} where the next question begins, then choose “Split at cursor”.`);
    if (textarea) textarea.focus();
    return;
  }
  state.items = next;
  redraw(state.items[i + 1].key, 'text', 0);
  announce(`${capital(name)} split: the text after the cursor is now ${questionName(state.items, i + 1)}. ${state.items.length} questions.`);
}

function doRemove(key) {
  const i = indexOf(key);
  if (i < 0) return;
  const name = questionName(state.items, i);
  state.items = model.remove(state.items, i);
  const focus = state.items[i] || state.items[i - 1];
  redraw(focus ? focus.key : '', 'text');
  const left = state.items.length;
  announce(`${capital(name)} deleted. ${left ? `${left} question${left === 1 ? '' : 's'} left.` : 'No questions left: add one before answering.'}`);
}

function doMove(key, delta) {
  const i = indexOf(key);
  const next = model.move(state.items, i, delta);
  if (next === state.items) return;
  state.items = next;
  const j = i + delta;
  const atEnd = delta < 0 ? j === 0 : j === state.items.length - 1;
  // Stay on the same button to move it again; at the end of the list, on the other one.
  redraw(key, `button:${(delta < 0) !== atEnd ? 'up' : 'down'}`);
  announce(`${capital(questionName(state.items, j))} moved ${delta < 0 ? 'up' : 'down'}: now ${j + 1} of ${state.items.length}.`);
}

function addQuestion() {
  if (!state || state.busy) return;
  state.items = model.add(state.items);
  const item = state.items[state.items.length - 1];
  redraw(item.key, 'text');
  announce(`${capital(questionName(state.items, state.items.length - 1))} added at the end. Type its text.`);
}

// ---------------------------------------------------------------- while saving

/** Show `errors` ({key: {field: message}}) next to their fields; focus the first; whether there was one. */
export function showFieldErrors(errors) {
  state.errors = errors;
  renderList();
  const first = el.reviewList.querySelector('[aria-invalid="true"]');
  if (first) first.focus();
  return Boolean(first);
}

/** Lock the editor's buttons while saving (the answer button says what is happening). */
export function setBusy(busy, words) {
  state.busy = busy;
  el.reviewAnswer.disabled = busy;
  el.reviewAnswer.textContent = words || 'Answer these questions';
}
