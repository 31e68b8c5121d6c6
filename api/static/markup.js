/* Answers' light Markdown and $…$ maths, built as DOM nodes: never HTML.
 *
 * Lists (numbered and bulleted), headings, **bold**, *italic*, `code`; maths is shown as
 * readable text (fractions as a/b, powers as superscripts, Greek letters and operators as
 * symbols) with no renderer.
 */

import { clear, node } from './dom.js';

const ORDERED = /^\s*(\d+)[.)]\s+(.*)$/;
const BULLET = /^\s*[-*•]\s+(.*)$/;

export function formatText(text) {
  const out = node('div', 'answer-text');
  let paragraph = null;
  let list = null;
  let listKind = '';
  const close = () => { paragraph = null; list = null; listKind = ''; };
  for (const raw of text.replace(/\r\n?/g, '\n').split('\n')) {
    const line = raw.replace(/\s+$/, '');
    if (!line.trim()) { close(); continue; }
    const ordered = ORDERED.exec(line);
    const bullet = ordered ? null : BULLET.exec(line);
    if (ordered || bullet) {
      const kind = ordered ? 'ol' : 'ul';
      if (!list || listKind !== kind) {
        close();
        list = node(kind);
        if (ordered && ordered[1] !== '1') list.start = Number(ordered[1]);
        listKind = kind;
        out.append(list);
      }
      const li = node('li');
      inline(ordered ? ordered[2] : bullet[1], li);
      list.append(li);
      continue;
    }
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) {
      close();
      const p = node('p', 'answer-heading');
      const strong = node('strong');
      inline(heading[1], strong);
      p.append(strong);
      out.append(p);
      continue;
    }
    if (list) close();
    if (!paragraph) { paragraph = node('p'); out.append(paragraph); } else paragraph.append(document.createElement('br'));
    inline(line, paragraph);
  }
  return out;
}

const INLINE = /(\*\*[^*]+\*\*|__[^_]+__|`[^`]+`|\$\$[^$]+\$\$|\$[^$\n]+\$|\*[^*\s][^*]*\*)/g;

function inline(text, into) {
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    if (match.index > last) into.append(text.slice(last, match.index));
    const token = match[0];
    if (token.startsWith('**') || token.startsWith('__')) {
      const strong = node('strong');
      inline(token.slice(2, -2), strong);
      into.append(strong);
    } else if (token.startsWith('`')) {
      into.append(node('code', '', token.slice(1, -1)));
    } else if (token.startsWith('$$')) {
      into.append(math(token.slice(2, -2)));
    } else if (token.startsWith('$')) {
      into.append(math(token.slice(1, -1)));
    } else {
      const em = node('em');
      inline(token.slice(1, -1), em);
      into.append(em);
    }
    last = match.index + token.length;
  }
  if (last < text.length) into.append(text.slice(last));
}

// ---------------------------------------------- $...$ math as readable text (no renderer)

const SYMBOLS = {
  times: '×', cdot: '·', div: '÷', pm: '±', mp: '∓', le: '≤', leq: '≤', ge: '≥', geq: '≥', ne: '≠', neq: '≠',
  approx: '≈', equiv: '≡', sim: '∼', propto: '∝', infty: '∞', partial: '∂', nabla: '∇', degree: '°', circ: '°',
  to: '→', rightarrow: '→', leftarrow: '←', Rightarrow: '⇒', Leftrightarrow: '⇔', iff: '⇔', implies: '⇒',
  in: '∈', notin: '∉', subset: '⊂', subseteq: '⊆', cup: '∪', cap: '∩', emptyset: '∅', forall: '∀', exists: '∃',
  sum: 'Σ', prod: 'Π', int: '∫', oint: '∮', ldots: '…', cdots: '⋯', dots: '…', angle: '∠', perp: '⊥', parallel: '∥',
  alpha: 'α', beta: 'β', gamma: 'γ', delta: 'δ', epsilon: 'ε', varepsilon: 'ε', zeta: 'ζ', eta: 'η', theta: 'θ',
  vartheta: 'ϑ', iota: 'ι', kappa: 'κ', lambda: 'λ', mu: 'μ', nu: 'ν', xi: 'ξ', pi: 'π', rho: 'ρ', sigma: 'σ',
  tau: 'τ', upsilon: 'υ', phi: 'φ', varphi: 'φ', chi: 'χ', psi: 'ψ', omega: 'ω', Gamma: 'Γ', Delta: 'Δ',
  Theta: 'Θ', Lambda: 'Λ', Xi: 'Ξ', Pi: 'Π', Sigma: 'Σ', Phi: 'Φ', Psi: 'Ψ', Omega: 'Ω',
  ',': '\u2009', ';': ' ', ':': ' ', '!': '', quad: '  ', qquad: '   ', ' ': ' ', '%': '%', '$': '$', '{': '{', '}': '}',
  '_': '_', '&': '&', '#': '#', lbrace: '{', rbrace: '}', backslash: '\\',
  sin: 'sin', cos: 'cos', tan: 'tan', cot: 'cot', sec: 'sec', csc: 'csc', log: 'log', ln: 'ln', exp: 'exp',
  lim: 'lim', max: 'max', min: 'min', det: 'det', arcsin: 'arcsin', arccos: 'arccos', arctan: 'arctan',
  left: '', right: '', big: '', Big: '', bigl: '', bigr: '', displaystyle: '', limits: '',
};
const TEXT_COMMANDS = new Set(['text', 'mathrm', 'textrm', 'mathit', 'mathbf', 'textbf', 'operatorname', 'mathsf', 'mbox']);
const ACCENTS = {
  bar: '\u0304', overline: '\u0305', hat: '\u0302', widehat: '\u0302', tilde: '\u0303', vec: '\u20d7',
  dot: '\u0307', ddot: '\u0308',
};

function math(source) {
  const span = node('span', 'math');
  try {
    const parser = { s: source, i: 0 };
    appendAll(span, parseSequence(parser, ''));
  } catch (e) {
    clear(span);
    span.textContent = source;
  }
  return span;
}

function appendAll(into, items) { for (const item of items) into.append(item); }

function textOf(items) { return items.map((item) => (typeof item === 'string' ? item : item.textContent)).join(''); }

/** Parse until `stop` ('}' or end), returning strings and nodes. */
function parseSequence(p, stop) {
  const out = [];
  while (p.i < p.s.length) {
    const c = p.s[p.i];
    if (c === stop) { p.i += 1; return out; }
    if (c === '{') { p.i += 1; out.push(...parseSequence(p, '}')); continue; }
    if (c === '^' || c === '_') {
      p.i += 1;
      const script = node(c === '^' ? 'sup' : 'sub');
      appendAll(script, parseArgument(p));
      out.push(script);
      continue;
    }
    if (c === '\\') { out.push(...parseCommand(p)); continue; }
    if (c === '~') { out.push('\u00a0'); p.i += 1; continue; }
    out.push(c);
    p.i += 1;
  }
  return out;
}

/** One argument: a {group}, a command, or a single character. */
function parseArgument(p) {
  while (p.s[p.i] === ' ') p.i += 1;
  const c = p.s[p.i];
  if (c === undefined) return [];
  if (c === '{') { p.i += 1; return parseSequence(p, '}'); }
  if (c === '\\') return parseCommand(p);
  p.i += 1;
  return [c];
}

function parseCommand(p) {
  p.i += 1; // the backslash
  let name = '';
  const letters = /^[A-Za-z]+/.exec(p.s.slice(p.i));
  if (letters) name = letters[0];
  else name = p.s[p.i] || '';
  p.i += name.length;
  if (name === 'frac' || name === 'dfrac' || name === 'tfrac') {
    const top = parseArgument(p);
    const bottom = parseArgument(p);
    return [...wrap(top), '/', ...wrap(bottom)];
  }
  if (name === 'sqrt') {
    let degree = null;
    if (p.s[p.i] === '[') {
      const end = p.s.indexOf(']', p.i);
      degree = p.s.slice(p.i + 1, end < 0 ? p.s.length : end);
      p.i = end < 0 ? p.s.length : end + 1;
    }
    const body = parseArgument(p);
    const out = [];
    if (degree) { const sup = node('sup'); sup.textContent = degree; out.push(sup); }
    out.push('√', ...wrap(body, true));
    return out;
  }
  if (TEXT_COMMANDS.has(name)) return parseArgument(p);
  if (ACCENTS[name]) {
    const body = textOf(parseArgument(p));
    return [body.length === 1 ? body + ACCENTS[name] : `${name}(${body})`];
  }
  if (Object.prototype.hasOwnProperty.call(SYMBOLS, name)) {
    const symbol = SYMBOLS[name];
    return /^[a-z]{2,}$/.test(symbol) ? [symbol + ' '] : [symbol];
  }
  return [name];
}

/** Brackets around a fraction's side, or a root's body, when it is more than one simple token. */
function wrap(items, always) {
  const text = textOf(items).trim();
  const simple = /^[A-Za-z0-9.]+$/.test(text) || /^\(.*\)$/.test(text);
  return (simple && !always) || (always && /^[A-Za-z0-9.]+$/.test(text)) ? items : ['(', ...items, ')'];
}
