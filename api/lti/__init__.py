"""qagen as an LTI 1.3 tool: teachers use it from inside Moodle, Canvas or Brightspace (docs/lti.md).

Browser routes outside the versioned JSON API (they are not in the OpenAPI document, like
the web page's): the OIDC login (`/lti/login`), the launch (`/lti/launch`), the deep-linking
answer (`/lti/deep-link`) and the tool's public keys (`/lti/jwks.json`), in api/lti/views.py.

- api/lti/tool.py: PyLTI1p3 (its Flask support) on qagen's registrations (qagen.lti.registry),
  with launch state, nonces and launch data in Redis; a nonce is spent by the launch that
  uses it, so a replayed id_token is refused.
- qagen/lti/grants.py: what a launch grants the page: a short-lived token (`qlt_...`) for one
  teacher (the LTI `sub`) in the deployment's tenant, never an API key.
- api/lti/pages.py: the pages shown in the LMS's frame and their frame and cookie rules.
"""
