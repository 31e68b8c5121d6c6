/* The preview of an answered paper (result.json): what the parse found (its confidence and
 * warnings), questions grouped by paper when the file holds several, parts, options,
 * alternatives, marks, answers, notes, sources and the answer key the paper itself prints.
 * Everything from the API goes in as text.
 */

import { api, sessionPath } from './api.js';
import { clear, el, formatMarks, lines, node, warningsNote } from './dom.js';
import { formatText } from './markup.js';

/** Show the answers of session `id`; `stillWanted()` says whether they are still the ones to show once loaded. */
export async function loadPreview(id, stillWanted) {
  el.preview.hidden = false;
  clear(el.previewBody);
  el.previewBody.append(node('p', 'hint', 'Loading the answers…'));
  el.previewBody.setAttribute('aria-busy', 'true');
  try {
    const paper = await api(`${sessionPath(id)}/result.json`);
    if (!stillWanted()) return;
    clear(el.previewBody);
    renderPaper(paper, el.previewBody);
  } catch (error) {
    clear(el.previewBody);
    el.previewBody.append(node('p', 'hint', `The answers cannot be shown here: ${error.message} The PDF has them all.`));
  } finally {
    el.previewBody.removeAttribute('aria-busy');
  }
}

function renderPaper(paper, into) {
  if (!paper || typeof paper !== 'object') return;
  const head = node('div', 'paper-head');
  if (paper.title) head.append(node('h3', 'paper-title', paper.title));
  const facts = [];
  const questions = Array.isArray(paper.questions) ? paper.questions : [];
  facts.push(`${questions.length} question${questions.length === 1 ? '' : 's'}`);
  if (typeof paper.total_marks === 'number') facts.push(`${formatMarks(paper.total_marks)} in all`);
  if (typeof paper.confidence === 'string' && paper.confidence) facts.push(`parse confidence: ${paper.confidence}`);
  head.append(node('p', 'paper-facts', facts.join(' · ')));
  const warnings = warningsNote(paper.warnings);
  if (warnings) head.append(warnings);
  if (paper.instructions) head.append(lines('p', 'paper-instructions', paper.instructions));
  into.append(head);

  const papers = paperStarts(paper.papers, questions.length);
  const sections = Array.isArray(paper.sections) ? paper.sections : [];
  const bySection = new Map(sections.map((s) => [s && s.name, s]));
  const top = papers.size ? 4 : 3;  // section headings; papers are h3
  const level = sections.length ? top + 1 : top;
  let lastSection = null;
  const list = node('div', 'questions');
  for (const [index, question] of questions.entries()) {
    if (papers.has(index)) {
      const { number, title, count, marks } = papers.get(index);
      list.append(node('h3', 'paper-name', title ? `Paper ${number}: ${title}` : `Paper ${number}`));
      const detail = `${count} question${count === 1 ? '' : 's'}` + (marks ? `, ${marks}` : '');
      list.append(node('p', 'paper-facts', detail));
      lastSection = null;
    }
    if (!question || typeof question !== 'object') continue;
    if (sections.length && question.section && question.section !== lastSection) {
      lastSection = question.section;
      const section = bySection.get(question.section) || { name: question.section };
      const heading = node(`h${top}`, 'section-name', section.name);
      if (typeof section.marks === 'number') heading.append(node('span', 'marks', ` (${formatMarks(section.marks)})`));
      list.append(heading);
      if (section.instructions) list.append(lines('p', 'section-instructions', section.instructions));
    }
    list.append(renderQuestion(question, level));
  }
  into.append(list);
}

/** Where each paper of a file holding several begins: question index -> its number, title, size, marks. */
function paperStarts(papers, questionCount) {
  const starts = new Map();
  const valid = (Array.isArray(papers) ? papers : []).filter((p) => p && typeof p === 'object'
    && Number.isInteger(p.first) && p.first >= 0 && p.first < questionCount);
  if (valid.length < 2) return starts;
  valid.sort((a, b) => a.first - b.first);
  for (const p of valid) {
    if (starts.has(p.first)) continue;
    starts.set(p.first, { number: starts.size + 1, title: typeof p.title === 'string' ? p.title : '',
                          count: Number.isInteger(p.count) ? p.count : 0, marks: formatMarks(p.total_marks) });
  }
  return starts.size > 1 ? starts : new Map();
}

/** The answer the paper itself prints after a question, as printed. */
function renderAnswerKey(text) {
  const box = node('div', 'answer-key');
  box.append(node('p', 'answer-key-label', "The paper's answer key"));
  box.append(lines('p', 'answer-key-text', text));
  return box;
}

function questionTitle(number) {
  const text = String(number === undefined || number === null ? '' : number).trim();
  return /^\d+$/.test(text) ? `Question ${text}` : (text || 'Question');
}

function renderQuestion(question, level) {
  const article = node('article', 'question');
  const heading = node(`h${level}`, 'question-title', questionTitle(question.number));
  const marks = formatMarks(question.marks);
  if (marks) heading.append(node('span', 'marks', ` (${marks})`));
  article.append(heading);
  renderItemBody(question, article);
  if (typeof question.given_answer === 'string' && question.given_answer.trim()) {
    article.append(renderAnswerKey(question.given_answer));
  }
  const alternatives = Array.isArray(question.alternatives) ? question.alternatives : [];
  for (const alternative of alternatives) {
    if (!alternative || typeof alternative !== 'object') continue;
    const block = node('div', 'alternative');
    const label = node('p', 'or-label', 'OR');
    const altMarks = formatMarks(alternative.marks);
    if (altMarks) label.append(node('span', 'marks', ` (${altMarks})`));
    block.append(label);
    renderItemBody(alternative, block);
    if (typeof alternative.given_answer === 'string' && alternative.given_answer.trim()) {
      block.append(renderAnswerKey(alternative.given_answer));
    }
    article.append(block);
  }
  return article;
}

/** The text, options, answer and parts of a question or a part. */
function renderItemBody(item, into) {
  if (item.text) into.append(lines('p', 'item-text', item.text));
  const options = Array.isArray(item.options) ? item.options : [];
  if (options.length) {
    const list = node('ul', 'options');
    list.setAttribute('aria-label', 'Options');
    for (const option of options) {
      if (!option) continue;
      const li = node('li');
      li.append(node('span', 'label', `(${option.label}) `), String(option.text || ''));
      list.append(li);
    }
    into.append(list);
  }
  if (item.answer && typeof item.answer === 'object') into.append(renderAnswer(item.answer));
  const parts = Array.isArray(item.parts) ? item.parts : [];
  if (parts.length) {
    const list = node('ol', 'parts');
    for (const part of parts) {
      if (!part || typeof part !== 'object') continue;
      const li = node('li', 'part');
      const label = node('p', 'part-label', `(${part.label})`);
      const marks = formatMarks(part.marks);
      if (marks) label.append(node('span', 'marks', ` (${marks})`));
      li.append(label);
      renderItemBody(part, li);
      list.append(li);
    }
    into.append(list);
  }
}

function renderAnswer(answer) {
  const box = node('div', 'answer');
  box.append(node('p', 'answer-label', 'Answer'));
  box.append(formatText(String(answer.text || '')));
  if (answer.chart) box.append(node('p', 'hint', 'A chart for this answer is drawn in the PDF.'));
  const notes = Array.isArray(answer.notes) ? answer.notes.filter(Boolean) : [];
  if (notes.length) {
    const list = node('ul', 'answer-notes');
    list.setAttribute('aria-label', 'Notes on this answer');
    for (const note of notes) list.append(node('li', '', note));
    box.append(list);
  }
  const citations = Array.isArray(answer.citations) ? answer.citations.filter(Boolean) : [];
  if (citations.length) {
    box.append(node('p', 'citations-label', 'Sources'));
    const list = node('ol', 'citations');
    for (const citation of citations) {
      const li = node('li');
      let where = String(citation.document || 'notes');
      if (citation.page !== null && citation.page !== undefined && citation.page !== '') where += `, p. ${citation.page}`;
      li.append(node('cite', '', where));
      if (citation.excerpt) li.append(': ', node('q', '', citation.excerpt));
      list.append(li);
    }
    box.append(list);
  }
  return box;
}
