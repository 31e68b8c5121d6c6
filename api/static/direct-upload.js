/* Direct-to-bucket uploads (docs/direct-uploads.md): a large paper goes from the browser straight
 * to the bucket with a presigned form, then the API makes its session; the API never carries the
 * bytes. Smaller papers keep the multipart upload (one request, and no bucket CORS needed).
 */

import { ApiError, api, enc } from './api.js';

/** Papers of this size and more go straight to the bucket. */
export const DIRECT_FROM_BYTES = 5 * 1024 * 1024;

/** Send `paper` to the bucket, then make its session with `fields` (filename, knowledge_base,
 * review); resolves to the same body as POST api/v1/upload, or to null when this server has no
 * direct uploads or the bucket cannot be reached from the page (the caller then uses the
 * multipart upload, which takes the same files). */
export async function uploadDirect(paper, fields) {
  let form;
  try {
    form = await api('api/v1/uploads/direct', { method: 'POST' });
  } catch (error) {
    if (error.status === 404 || error.status === 405) return null;
    throw error;
  }
  if (paper.size > form.max_bytes) throw new ApiError('The file is too large.', 413, 'payload_too_large');
  const body = new FormData();
  for (const [name, value] of Object.entries(form.fields)) body.append(name, value);
  body.append('file', paper, paper.name); // last: the bucket ignores fields after the file
  let response;
  try {
    // No key: the signed form is the permission, and the key never leaves for another origin.
    response = await fetch(form.url, { method: 'POST', body, credentials: 'omit', cache: 'no-store' });
  } catch (e) {
    return null;
  }
  if (!response.ok) {
    const text = await response.text().catch(() => '');
    const code = (/<Code>([^<]+)<\/Code>/.exec(text) || [])[1] || '';
    const message = code === 'EntityTooLarge' ? 'The file is too large.'
      : `The storage refused the file (HTTP ${response.status}${code ? `, ${code}` : ''}). Try again.`;
    throw new ApiError(message, response.status, code);
  }
  return api(`api/v1/uploads/direct/${enc(form.upload_id)}/session`, {
    method: 'POST', body: JSON.stringify(fields), headers: { 'Content-Type': 'application/json' },
  });
}
