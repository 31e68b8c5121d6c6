/* Downloading the answered PDF: check the session first (a refusal shows in words), then
 * navigate to the download link (with a short-lived token for this session), which the API
 * redirects to the signed PDF.
 */

import { ApiError, api, enc, sessionPath, sessionToken, withToken } from './api.js';
import { clearError, showError } from './dom.js';

export async function download(id, button) {
  clearError();
  button.disabled = true;
  try {
    // Ask first: a refusal then shows here in words instead of replacing the page.
    const session = await api(sessionPath(id));
    if (session.status !== 'complete') {
      throw new ApiError(`The answers are not ready (status: ${session.status}).${session.error ? ' ' + session.error : ''}`, 409);
    }
    // A plain navigation, with a token for this session that lasts minutes (never the key): the
    // API redirects to a signed link and the browser saves the PDF.
    const token = await sessionToken(id);
    window.location.assign(withToken(`api/v1/download/${enc(id)}`, token));
  } catch (error) {
    showError('The answers could not be downloaded.', error);
  } finally {
    window.setTimeout(() => { button.disabled = false; }, 1500);
  }
}
