/* The review editor's model: the parsed paper's questions as a list, and the edits a
 * teacher makes to it, as pure functions (each returns a new list; none touches the page).
 *
 * An item of the list is {key, group, marks, question}:
 *   key      a stable id for the page (focus, element ids); never sent to the API
 *   group    the index in paper.papers of the paper it belongs to (null for a one-paper file)
 *   marks    the marks field as typed (a string; turned into a number or null by toPaper)
 *   question the question as the API sent it, every field kept (parts, options,
 *            alternatives, translations, given_answer, section...), text and number edited
 *
 * Choices (docs/web.md):
 *   merge(i)  question i joins question i-1: texts joined by a space (a line break when
 *             either has one), parts, options, alternatives and translations appended, the
 *             answer keys joined; the marks are added up (empty when both are empty); the
 *             number and section are those of question i-1.
 *   split(i, offset)  the text after offset becomes a new question right after i, with the
 *             next number (5 -> 6, Q3 -> Q4, IV -> IVb) and no marks; the following questions
 *             keep their numbers (they are the printed ones: renumber them by hand if needed).
 *             Parts, options, alternatives, translations and the answer key stay with the first half.
 *   add()     an empty question at the end, numbered after the last one.
 */

let lastKey = 0;
const newKey = () => `q${++lastKey}`;

const list = (value) => (Array.isArray(value) ? value : []);
const text = (value) => (typeof value === 'string' ? value : '');

/** Marks as shown in the field: '' for none. */
export function marksText(marks) {
  return typeof marks === 'number' && isFinite(marks) ? String(marks) : '';
}

/** The marks field read: {ok: true, value: number|null} or {ok: false}. */
export function parseMarks(typed) {
  const value = String(typed === undefined || typed === null ? '' : typed).trim();
  if (!value) return { ok: true, value: null };
  if (!/^\d+(\.\d+)?$|^\.\d+$/.test(value)) return { ok: false };
  return { ok: true, value: Number(value) };
}

/** The number that follows `number`: its trailing digits plus one, else the number with "b". */
export function nextNumber(number) {
  const value = text(number).trim();
  const match = /^(.*?)(\d+)$/.exec(value);
  if (match) return match[1] + String(Number(match[2]) + 1);
  return value ? `${value}b` : '';
}

function emptyQuestion(number, section) {
  return { number: number, text: '', marks: null, section: section === undefined ? null : section,
           parts: [], options: [], alternatives: [], answer: null, translations: [], given_answer: null };
}

/** The paper from GET .../paper as {base, items}: base is the paper without its questions. */
export function fromPaper(paper) {
  const source = paper && typeof paper === 'object' ? paper : {};
  const groupOf = new Map();
  list(source.papers).forEach((p, k) => {
    if (!p || !Number.isInteger(p.first) || !Number.isInteger(p.count)) return;
    for (let i = p.first; i < p.first + p.count; i += 1) if (!groupOf.has(i)) groupOf.set(i, k);
  });
  const items = list(source.questions).map((question, i) => {
    const q = Object.assign(emptyQuestion(''), question && typeof question === 'object' ? question : {});
    q.number = text(q.number);
    q.text = text(q.text);
    return { key: newKey(), group: groupOf.has(i) ? groupOf.get(i) : null, marks: marksText(q.marks), question: q };
  });
  const base = Object.assign({}, source);
  delete base.questions;
  return { base: base, items: items };
}

/** Indices of the items whose marks field cannot be read as a number. */
export function invalidMarks(items) {
  return items.flatMap((item, i) => (parseMarks(item.marks).ok ? [] : [i]));
}

/** The paper to PUT back: every field the API sent, the edited questions (answers null),
 * and each paper of a multi-paper file re-counted from where its questions now are. */
export function toPaper(base, items) {
  const questions = items.map((item) => {
    const marks = parseMarks(item.marks);
    return Object.assign({}, item.question, { marks: marks.ok ? marks.value : item.question.marks, answer: null });
  });
  const paper = Object.assign({}, base, { questions: questions });
  if (Array.isArray(base.papers)) {
    paper.papers = base.papers.flatMap((p, k) => {
      const where = items.flatMap((item, i) => (item.group === k ? [i] : []));
      return where.length ? [Object.assign({}, p, { first: where[0], count: where.length })] : [];
    });
  }
  return paper;
}

/** Item i with `changes` to its question (and `marks` to its marks field). */
export function edit(items, i, changes) {
  if (i < 0 || i >= items.length) return items;
  const item = items[i];
  const next = Object.assign({}, item, { question: Object.assign({}, item.question) });
  for (const [name, value] of Object.entries(changes)) {
    if (name === 'marks') next.marks = value;
    else next.question[name] = value;
  }
  return items.map((other, j) => (j === i ? next : other));
}

function joinText(a, b, separator) {
  if (!a.trim()) return b;
  if (!b.trim()) return a;
  return a.replace(/\s+$/, '') + separator + b.replace(/^\s+/, '');
}

/** Question i merged into question i-1 (see the choices above). */
export function merge(items, i) {
  if (i < 1 || i >= items.length) return items;
  const prev = items[i - 1];
  const cur = items[i];
  const a = prev.question;
  const b = cur.question;
  const multiline = a.text.includes('\n') || b.text.includes('\n');
  const before = parseMarks(prev.marks);
  const after = parseMarks(cur.marks);
  let marks = prev.marks;
  if (before.ok && after.ok) {
    marks = before.value === null && after.value === null ? '' : marksText((before.value || 0) + (after.value || 0));
  }
  const keys = [text(a.given_answer), text(b.given_answer)].filter((k) => k.trim());
  const question = Object.assign({}, a, {
    text: joinText(a.text, b.text, multiline ? '\n' : ' '),
    parts: list(a.parts).concat(list(b.parts)),
    options: list(a.options).concat(list(b.options)),
    alternatives: list(a.alternatives).concat(list(b.alternatives)),
    translations: list(a.translations).concat(list(b.translations)),
    given_answer: keys.length ? keys.join('\n') : null,
  });
  const merged = Object.assign({}, prev, { marks: marks, question: question });
  return items.slice(0, i - 1).concat([merged], items.slice(i + 1));
}

/** Question i split at `offset` of its text: the rest becomes a new question after it. */
export function split(items, i, offset) {
  if (i < 0 || i >= items.length) return items;
  const item = items[i];
  const whole = item.question.text;
  const at = Math.max(0, Math.min(whole.length, Math.floor(Number(offset) || 0)));
  const first = whole.slice(0, at).replace(/\s+$/, '');
  const second = whole.slice(at).replace(/^\s+/, '');
  if (!first || !second) return items;
  const kept = Object.assign({}, item, { question: Object.assign({}, item.question, { text: first }) });
  const added = { key: newKey(), group: item.group, marks: '',
                  question: Object.assign(emptyQuestion(nextNumber(item.question.number), item.question.section),
                                          { text: second }) };
  return items.slice(0, i).concat([kept, added], items.slice(i + 1));
}

/** Whether split(items, i, offset) would change anything (both halves have text). */
export function canSplit(items, i, offset) {
  return split(items, i, offset) !== items;
}

/** The list without question i. */
export function remove(items, i) {
  if (i < 0 || i >= items.length) return items;
  return items.slice(0, i).concat(items.slice(i + 1));
}

/** Question i moved by `delta` places (-1 up, +1 down); unchanged at either end. */
export function move(items, i, delta) {
  const j = i + delta;
  if (i < 0 || i >= items.length || j < 0 || j >= items.length || i === j) return items;
  const next = items.slice();
  const [item] = next.splice(i, 1);
  next.splice(j, 0, item);
  return next;
}

/** An empty question added at the end, numbered after the last one. */
export function add(items) {
  const last = items.length ? items[items.length - 1] : null;
  const question = emptyQuestion(last ? nextNumber(last.question.number) : '1', last ? last.question.section : null);
  return items.concat([{ key: newKey(), group: last ? last.group : null, marks: '', question: question }]);
}
