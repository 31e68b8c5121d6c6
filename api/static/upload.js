/* Choosing and sending a paper: the drop zone (a label of a real file input), the optional
 * course notes (sent first as a knowledge base), and the upload that starts a session.
 */

import { ApiError, api, currentKey } from './api.js';
import { clearError, el, showError } from './dom.js';
import { DIRECT_FROM_BYTES, uploadDirect } from './direct-upload.js';
import { follow } from './events.js';
import { refreshSessions } from './sessions.js';

/** Wire the drop zone and the form; show the file already chosen (e.g. kept by a reload). */
export function setupUpload() {
  setupDropzone();
  el.uploadForm.addEventListener('submit', onUpload);
  showChosen();
}

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
  if (!currentKey()) {
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
    const fields = { filename: paper.name };
    if (knowledgeBase) fields.knowledge_base = knowledgeBase;
    // Stop after parsing, for the teacher to check the questions (docs/review.md).
    if (el.reviewBox.checked) fields.review = 'true';
    // A large paper goes straight to the bucket (docs/direct-uploads.md), when it can.
    const body = (paper.size >= DIRECT_FROM_BYTES && await uploadDirect(paper, fields))
      || await uploadMultipart(paper, fields);
    follow(body.session_id, { filename: paper.name, status: 'queued', progress: 0, stage: 'queued', message: '' });
    refreshSessions();
  } catch (error) {
    showError(error.stage === 'notes' ? 'The notes were not accepted.' : 'The paper was not uploaded.', error);
  } finally {
    el.uploadButton.disabled = false;
    el.uploadButton.textContent = 'Answer this paper';
  }
}

function uploadMultipart(paper, fields) {
  const form = new FormData();
  form.append('file', paper, paper.name);
  for (const [name, value] of Object.entries(fields)) if (name !== 'filename') form.append(name, value);
  return api('api/v1/upload', { method: 'POST', body: form });
}

async function uploadNotes(files, paperName) {
  const form = new FormData();
  for (const file of files) form.append('file', file, file.name);
  form.append('name', `Notes for ${paperName}`);
  try {
    const kb = await api('api/v1/knowledge', { method: 'POST', body: form });
    if (kb.status === 'failed') throw new ApiError(kb.error || 'The notes could not be read.', 422, 'failed');
    return kb.knowledge_base_id;
  } catch (error) {
    error.stage = 'notes';
    throw error;
  }
}
