/* One question of the review editor, drawn: its heading, number, marks and text fields
 * (each labelled "Text of question 3"), an error line under a field the API refused, its
 * parts and options read-only, and its buttons (merge, split, delete, move). What a field
 * or button does is the caller's: `on.edit(key, field, control)` on typing and
 * `on.act(key, action, words, why)` on a button (`why` says why it is unavailable there).
 */

import { formatMarks, hiddenText, node } from './dom.js';

/** How a question is named in labels and announcements: "question 3", or by its place. */
export function questionName(items, i) {
  const number = String(items[i].question.number || '').trim();
  return number ? `question ${number}` : `question in place ${i + 1}`;
}

export const capital = (words) => words.charAt(0).toUpperCase() + words.slice(1);

/** The id of an item's control: `field` is number, marks or text. */
export const fieldId = (item, field) => `review-${item.key}-${field}`;

/** What "Merge into previous" of question i does, in words: "question 3 into question 2". */
export const mergeWords = (items, i) => `${questionName(items, i)} into ${questionName(items, i - 1)}`;

/** Question `i` of `items` as an <li>; `errors` maps its fields (and "other") to the API's words. */
export function renderItem(items, i, errors, on) {
  const item = items[i];
  const name = questionName(items, i);
  const li = node('li', 'rq');
  li.dataset.key = item.key;
  const head = node('div', 'rq-head');
  head.append(node('h3', 'rq-title', capital(name)), node('span', 'rq-place', `${i + 1} of ${items.length}`));
  li.append(head);

  const fields = node('div', 'rq-fields');
  fields.append(field('Number', name, input(item, 'number', item.question.number, on), errors.number));
  const marks = input(item, 'marks', item.marks, on);
  marks.inputMode = 'decimal';
  fields.append(field('Marks', name, marks, errors.marks));
  li.append(fields);
  const textarea = document.createElement('textarea');
  textarea.id = fieldId(item, 'text');
  textarea.rows = Math.min(8, Math.max(2, Math.ceil(item.question.text.length / 70) + 1));
  textarea.value = item.question.text;
  textarea.addEventListener('input', () => on.edit(item.key, 'text', textarea));
  li.append(field('Text', name, textarea, errors.text));

  const extras = renderExtras(item.question);
  if (extras) li.append(extras);
  if (errors.other) li.append(node('p', 'field-error', errors.other));

  const actions = node('div', 'rq-actions');
  const first = i === 0 ? 'this is the first question.' : '';
  const last = i === items.length - 1 ? 'this is the last question.' : '';
  const button = (action, words, hidden, why) => {
    const b = node('button', 'button button-secondary rq-action', words);
    b.type = 'button';
    b.dataset.action = action;
    b.append(hiddenText(hidden));
    if (why) b.setAttribute('aria-disabled', 'true');
    b.addEventListener('click', () => on.act(item.key, action, words, why));
    return b;
  };
  actions.append(
    button('merge', 'Merge into previous', first ? ` (${name})` : ` (${mergeWords(items, i)})`, first),
    button('split', 'Split at cursor', ` (${name})`, ''),
    button('remove', 'Delete', ` ${name}`, ''),
    button('up', 'Move up', ` (${name})`, first),
    button('down', 'Move down', ` (${name})`, last));
  li.append(actions);
  return li;
}

function input(item, name, value, on) {
  const box = document.createElement('input');
  box.type = 'text';
  box.id = fieldId(item, name);
  box.value = value;
  box.autocomplete = 'off';
  box.addEventListener('input', () => on.edit(item.key, name, box));
  return box;
}

/** A control with its label ("Text" + hidden " of question 3") and, when refused, its error line. */
function field(words, questionLabel, control, message) {
  const wrap = node('div', `rq-field rq-${control.id.split('-').pop()}`);
  const label = node('label', '', words);
  label.htmlFor = control.id;
  label.append(hiddenText(` of ${questionLabel}`));
  wrap.append(label, control);
  if (message) {
    const error = node('p', 'field-error', message);
    error.id = `${control.id}-error`;
    control.setAttribute('aria-invalid', 'true');
    control.setAttribute('aria-describedby', error.id);
    wrap.append(error);
  }
  return wrap;
}

/** Parts, options and the rest the editor keeps but does not edit, shown read-only. */
function renderExtras(question) {
  const parts = Array.isArray(question.parts) ? question.parts : [];
  const options = Array.isArray(question.options) ? question.options : [];
  const alternatives = Array.isArray(question.alternatives) ? question.alternatives : [];
  const translations = Array.isArray(question.translations) ? question.translations : [];
  const hasKey = typeof question.given_answer === 'string' && question.given_answer.trim();
  if (!parts.length && !options.length && !alternatives.length && !translations.length && !hasKey) return null;
  const box = node('div', 'rq-extras');
  box.append(node('p', 'rq-extras-title', 'Kept as read (not edited here)'));
  if (options.length) box.append(itemList('Options', options, false));
  if (parts.length) box.append(itemList('Parts', parts, true));
  const more = [];
  if (alternatives.length) more.push(`${alternatives.length} alternative${alternatives.length === 1 ? '' : 's'} (OR)`);
  if (translations.length) more.push(`${translations.length} translation${translations.length === 1 ? '' : 's'}`);
  if (hasKey) more.push("the paper's answer key");
  if (more.length) box.append(node('p', 'hint', `Also: ${more.join(', ')}.`));
  return box;
}

function itemList(title, entries, nested) {
  const list = node('ul', 'rq-items');
  list.setAttribute('aria-label', title);
  for (const entry of entries) {
    if (!entry || typeof entry !== 'object') continue;
    const li = node('li', '', `(${entry.label}) ${entry.text || ''}`);
    const marks = formatMarks(entry.marks);
    if (marks) li.append(` (${marks})`);
    if (nested && Array.isArray(entry.parts) && entry.parts.length) li.append(itemList('Parts', entry.parts, true));
    if (Array.isArray(entry.options) && entry.options.length) li.append(itemList('Options', entry.options, false));
    list.append(li);
  }
  return list;
}
