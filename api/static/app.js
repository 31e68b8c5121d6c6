/* qagen's page for teachers: the REST API, in a browser, with no build step.
 *
 * Safety rule: everything that comes from the API (file names, messages, questions,
 * answers) reaches the page through textContent or DOM nodes built here, never innerHTML.
 * The page runs under a Content-Security-Policy without inline script.
 */
'use strict';

(function () {
  const KEY_STORAGE = 'qagen.apiKey';
  const POLL_MS = 1000;
  const SESSIONS_PAGE = 20;

  const $ = (id) => document.getElementById(id);
  const el = {
    alert: $('alert'),
    keyForm: $('key-form'), keyInput: $('api-key'), keySaved: $('key-saved'), keyHint: $('key-hint'),
    forgetKey: $('forget-key'),
    uploadForm: $('upload-form'), dropzone: $('dropzone'), paper: $('paper'), paperChosen: $('paper-chosen'),
    notes: $('notes'), uploadButton: $('upload-button'),
    job: $('job'), jobFile: $('job-file'), progress: $('progress'), progressText: $('progress-text'),
    status: $('status'), download: $('download'),
    preview: $('preview'), previewBody: $('preview-body'),
    sessions: $('sessions'), sessionsNote: $('sessions-note'), refreshSessions: $('refresh-sessions'),
    moreSessions: $('more-sessions'),
  };

  // ---------------------------------------------------------------- the key

  let apiKey = readKey();

  function readKey() {
    try { return window.localStorage.getItem(KEY_STORAGE) || ''; } catch (e) { return ''; }
  }

  function writeKey(value) {
    apiKey = value;
    try {
      if (value) window.localStorage.setItem(KEY_STORAGE, value);
      else window.localStorage.removeItem(KEY_STORAGE);
    } catch (e) { /* storage refused (private mode): the key lives for this page only */ }
    showKeyState();
  }

  function showKeyState() {
    const saved = Boolean(apiKey);
    el.keyForm.hidden = saved;
    el.keySaved.hidden = !saved;
    el.keyHint.textContent = saved ? maskKey(apiKey) : '';
  }

  function maskKey(key) {
    return key.length <= 8 ? '••••' : key.slice(0, 3) + '…' + key.slice(-4);
  }

  // ---------------------------------------------------------------- talking to the API

  class ApiError extends Error {
    constructor(message, status, code, retryAfter) {
      super(message);
      this.status = status;
      this.code = code || '';
      this.retryAfter = retryAfter || 0; // seconds, from Retry-After
    }
  }

  const STATUS_WORDS = {
    400: 'The request was not accepted.',
    401: 'The API key was not accepted. Check it, or ask for a new one.',
    403: 'This API key may not do that.',
    404: 'Not found.',
    409: 'The answers are not ready yet.',
    413: 'The file is too large.',
    415: 'That kind of file cannot be read. Upload a PDF, DOCX, PNG, JPEG or text file.',
    429: 'Too many requests for now.',
  };

  function describeStatus(status) {
    if (STATUS_WORDS[status]) return STATUS_WORDS[status];
    if (status >= 500) return `The server had a problem (HTTP ${status}). Try again in a moment.`;
    return `The server answered with HTTP ${status}.`;
  }

  function retryAfter(response) {
    const after = (response.headers.get('Retry-After') || '').trim();
    return /^\d+$/.test(after) ? Number(after) : 0;
  }

  /** fetch() an /api path with the key; resolve to the JSON body, or reject with an ApiError in words. */
  async function api(path, options) {
    const init = Object.assign({ method: 'GET', cache: 'no-store', credentials: 'omit' }, options || {});
    const key = 'key' in init ? init.key : apiKey;
    delete init.key;
    init.headers = new Headers(init.headers || {});
    init.headers.set('Accept', 'application/json');
    if (key) init.headers.set('Authorization', 'Bearer ' + key);
    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      throw new ApiError('Could not reach the qagen server. Check your connection and try again.', 0, 'network');
    }
    let body = null;
    if ((response.headers.get('Content-Type') || '').includes('json')) {
      try { body = await response.json(); } catch (e) { body = null; }
    }
    if (!response.ok) {
      const error = body && typeof body === 'object' && body.error && typeof body.error === 'object' ? body.error : null;
      let message = error && typeof error.message === 'string' && error.message ? error.message : describeStatus(response.status);
      const seconds = retryAfter(response);
      if (seconds && (response.status === 429 || response.status === 503)) {
        message += ` Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`;
      }
      throw new ApiError(message, response.status, error && error.code, seconds);
    }
    return body;
  }

  const enc = encodeURIComponent;
  const sessionPath = (id) => `api/sessions/${enc(id)}`;
  const withToken = (path) => `${path}?access_token=${enc(apiKey)}`;

  // ---------------------------------------------------------------- errors, in words

  function showError(headline, error) {
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

  function clearError() { clear(el.alert); }

  // ---------------------------------------------------------------- small DOM helpers

  function node(tag, className, text) {
    const n = document.createElement(tag);
    if (className) n.className = className;
    if (text !== undefined && text !== null) n.textContent = String(text);
    return n;
  }

  function clear(n) { while (n.firstChild) n.removeChild(n.firstChild); }

  function hiddenText(text) { return node('span', 'visually-hidden', text); }

  function formatMarks(marks) {
    if (typeof marks !== 'number' || !isFinite(marks)) return '';
    const value = Number.isInteger(marks) ? String(marks) : String(Math.round(marks * 100) / 100);
    return `${value} mark${marks === 1 ? '' : 's'}`;
  }

  function formatTime(iso) {
    if (!iso) return '';
    const date = new Date(iso);
    if (isNaN(date.getTime())) return '';
    return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  }

  // ---------------------------------------------------------------- choosing files

  function chosenPaper() { return el.paper.files && el.paper.files[0]; }

  function showChosen() {
    const file = chosenPaper();
    el.paperChosen.textContent = file ? `Chosen: ${file.name} (${formatSize(file.size)})` : '';
    el.dropzone.classList.toggle('has-file', Boolean(file));
  }

  function formatSize(bytes) {
    if (bytes < 1024) return `${bytes} bytes`;
    if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
    return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  }

  function setupDropzone() {
    let depth = 0;
    const zone = el.dropzone;
    zone.addEventListener('dragenter', (e) => { e.preventDefault(); depth += 1; zone.classList.add('dragging'); });
    zone.addEventListener('dragover', (e) => { e.preventDefault(); if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'; });
    zone.addEventListener('dragleave', () => { depth = Math.max(0, depth - 1); if (!depth) zone.classList.remove('dragging'); });
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      depth = 0;
      zone.classList.remove('dragging');
      const files = e.dataTransfer && e.dataTransfer.files;
      if (!files || !files.length) return;
      if (files.length > 1) showError('One paper at a time.', `Only ${files[0].name} was taken.`);
      const transfer = new DataTransfer();
      transfer.items.add(files[0]);
      el.paper.files = transfer.files;
      showChosen();
    });
    // A file dropped next to the box should not replace the page.
    window.addEventListener('dragover', (e) => e.preventDefault());
    window.addEventListener('drop', (e) => e.preventDefault());
    el.paper.addEventListener('change', showChosen);
  }

  // ---------------------------------------------------------------- uploading

  async function onUpload(event) {
    event.preventDefault();
    clearError();
    if (!apiKey) {
      showError('Enter your API key first.', 'It goes in step 1 above.');
      el.keyInput.focus();
      return;
    }
    const paper = chosenPaper();
    if (!paper) {
      showError('No paper chosen yet.', 'Choose a file, or drop one on the box.');
      el.paper.focus();
      return;
    }
    const notes = Array.from(el.notes.files || []);
    el.uploadButton.disabled = true;
    el.uploadButton.textContent = notes.length ? 'Sending the notes…' : 'Sending the paper…';
    try {
      let knowledgeBase = null;
      if (notes.length) knowledgeBase = await uploadNotes(notes, paper.name);
      el.uploadButton.textContent = 'Sending the paper…';
      const form = new FormData();
      form.append('file', paper, paper.name);
      if (knowledgeBase) form.append('knowledge_base', knowledgeBase);
      const body = await api('api/upload', { method: 'POST', body: form });
      follow(body.session_id, { filename: paper.name, status: 'queued', progress: 0, stage: 'queued', message: '' });
      refreshSessions();
    } catch (error) {
      showError(error.stage === 'notes' ? 'The notes were not accepted.' : 'The paper was not uploaded.', error);
    } finally {
      el.uploadButton.disabled = false;
      el.uploadButton.textContent = 'Answer this paper';
    }
  }

  async function uploadNotes(files, paperName) {
    const form = new FormData();
    for (const file of files) form.append('file', file, file.name);
    form.append('name', `Notes for ${paperName}`);
    try {
      const kb = await api('api/knowledge', { method: 'POST', body: form });
      if (kb.status === 'failed') throw new ApiError(kb.error || 'The notes could not be read.', 422, 'failed');
      return kb.knowledge_base_id;
    } catch (error) {
      error.stage = 'notes';
      throw error;
    }
  }

  // ---------------------------------------------------------------- following one session

  let current = null; // {id, events, timer, finished}

  function stopFollowing() {
    if (!current) return;
    if (current.events) current.events.close();
    if (current.timer) window.clearTimeout(current.timer);
    current = null;
  }

  function follow(id, initial) {
    stopFollowing();
    const job = { id: id, events: null, timer: null, finished: false, lastStatus: '', lastStage: '' };
    current = job;
    el.job.hidden = false;
    el.download.hidden = true;
    el.preview.hidden = true;
    clear(el.previewBody);
    el.jobFile.textContent = (initial && initial.filename) || '';
    render(job, Object.assign({ session_id: id, status: 'queued', progress: 0, stage: 'queued', message: '' }, initial || {}));
    el.job.scrollIntoView({ block: 'nearest' });
    if (initial && (initial.status === 'complete' || initial.status === 'failed')) {
      // Already finished (picked from the list): nothing to follow.
      update(job, Object.assign({ session_id: id }, initial), true);
      return;
    }

    if (typeof window.EventSource !== 'function') { poll(job); return; }
    let events;
    try {
      events = new EventSource(withToken(`${sessionPath(id)}/events`));
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

  const STATUS_LABELS = { queued: 'Queued', running: 'Running', complete: 'Complete', failed: 'Failed' };
  const PAGE_TITLE = document.title;

  function render(job, session) {
    const progress = Math.max(0, Math.min(100, Math.round(Number(session.progress) || 0)));
    el.progress.value = progress;
    el.progress.textContent = `${progress}%`;
    const words = session.message || (session.stage && session.stage !== session.status ? session.stage : '');
    el.progressText.textContent = words ? `${progress}% · ${words}` : `${progress}%`;
    if (session.filename) el.jobFile.textContent = session.filename;
    // The tab's title shows how far it is, for a teacher working in another tab.
    const titles = { complete: 'Answers ready', failed: 'Failed' };
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
      loadPreview(job.id);
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

  // ---------------------------------------------------------------- downloading

  async function download(id, button) {
    clearError();
    button.disabled = true;
    try {
      // Ask first: a refusal then shows here in words instead of replacing the page.
      const session = await api(sessionPath(id));
      if (session.status !== 'complete') {
        throw new ApiError(`The answers are not ready (status: ${session.status}).${session.error ? ' ' + session.error : ''}`, 409);
      }
      // A plain navigation: the API redirects to a signed link and the browser saves the PDF.
      window.location.assign(withToken(`api/download/${enc(id)}`));
    } catch (error) {
      showError('The answers could not be downloaded.', error);
    } finally {
      window.setTimeout(() => { button.disabled = false; }, 1500);
    }
  }

  // ---------------------------------------------------------------- the preview

  async function loadPreview(id) {
    el.preview.hidden = false;
    clear(el.previewBody);
    el.previewBody.append(node('p', 'hint', 'Loading the answers…'));
    el.previewBody.setAttribute('aria-busy', 'true');
    try {
      const paper = await api(`${sessionPath(id)}/result.json`);
      if (!current || current.id !== id) return;
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
    head.append(node('p', 'paper-facts', facts.join(' · ')));
    if (paper.instructions) head.append(lines('p', 'paper-instructions', paper.instructions));
    into.append(head);

    const sections = Array.isArray(paper.sections) ? paper.sections : [];
    const bySection = new Map(sections.map((s) => [s && s.name, s]));
    const level = sections.length ? 4 : 3;
    let lastSection = null;
    const list = node('div', 'questions');
    for (const question of questions) {
      if (!question || typeof question !== 'object') continue;
      if (sections.length && question.section && question.section !== lastSection) {
        lastSection = question.section;
        const section = bySection.get(question.section) || { name: question.section };
        const heading = node('h3', 'section-name', section.name);
        if (typeof section.marks === 'number') heading.append(node('span', 'marks', ` (${formatMarks(section.marks)})`));
        list.append(heading);
        if (section.instructions) list.append(lines('p', 'section-instructions', section.instructions));
      }
      list.append(renderQuestion(question, level));
    }
    into.append(list);
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
    const alternatives = Array.isArray(question.alternatives) ? question.alternatives : [];
    for (const alternative of alternatives) {
      if (!alternative || typeof alternative !== 'object') continue;
      const block = node('div', 'alternative');
      const label = node('p', 'or-label', 'OR');
      const altMarks = formatMarks(alternative.marks);
      if (altMarks) label.append(node('span', 'marks', ` (${altMarks})`));
      block.append(label);
      renderItemBody(alternative, block);
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

  /** Text with its line breaks kept, as one element. */
  function lines(tag, className, text) {
    const n = node(tag, className);
    String(text).split('\n').forEach((line, i) => {
      if (i) n.append(document.createElement('br'));
      n.append(line);
    });
    return n;
  }

  // ------------------------------------------ light Markdown, built as DOM nodes (never HTML)

  const ORDERED = /^\s*(\d+)[.)]\s+(.*)$/;
  const BULLET = /^\s*[-*•]\s+(.*)$/;

  function formatText(text) {
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

  // ---------------------------------------------------------------- recent sessions

  let nextCursor = null;
  let sessionsRequest = 0;

  async function refreshSessions(append) {
    if (!apiKey) {
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
      const body = await api(`api/sessions?${query}`);
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
    if (session.status === 'complete' && session.question_count) {
      details.push(`${session.question_count} question${session.question_count === 1 ? '' : 's'}`);
    }
    if (details.length) li.append(node('p', 'session-details', details.join(' · ')));
    if (session.status === 'failed' && session.error) li.append(node('p', 'session-error', session.error));

    const actions = node('div', 'session-actions');
    const show = node('button', 'button button-secondary');
    show.type = 'button';
    show.dataset.action = 'show';
    show.append(session.status === 'complete' ? 'Show answers' : 'Follow', hiddenText(` for ${name}`));
    show.addEventListener('click', () => {
      clearError();
      follow(session.session_id, session);
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
      await api('api/sessions?limit=1', { key: value });
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

  el.uploadForm.addEventListener('submit', onUpload);
  el.download.addEventListener('click', () => {
    if (el.download.dataset.session) download(el.download.dataset.session, el.download);
  });
  el.refreshSessions.addEventListener('click', () => refreshSessions());
  el.moreSessions.addEventListener('click', () => refreshSessions(true));
  window.addEventListener('storage', (event) => {
    if (event.key === KEY_STORAGE) { apiKey = readKey(); showKeyState(); refreshSessions(); }
  });

  setupDropzone();
  showKeyState();
  showChosen();
  refreshSessions();
})();
