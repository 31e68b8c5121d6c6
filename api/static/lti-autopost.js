/* The deep-linking answer (api/lti/pages.py): post the signed content item back to the LMS at once.
 * A file of its own because the page's Content-Security-Policy allows no inline script. */
const form = document.getElementById('lti-deep-link-response');
if (form) form.submit();
