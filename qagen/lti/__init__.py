"""LTI 1.3: what qagen keeps about the learning platforms (LMSs) it is registered in, and its own key pair.

The LTI tool itself (login, launch, deep linking, the tool's JWKS) is in api/lti/; here are the
parts the command line shares with it, in Redis:
- qagen.lti.registry: the platforms an operator registered (`qagen lti add-platform`), each
  deployment mapped to a qagen tenant;
- qagen.lti.keys: the tool's RSA key pair, which signs deep-linking answers; generated once
  and kept in Redis; only its public half ever leaves (the JWKS at /lti/jwks.json).
- qagen.lti.grants: the launch tokens (`qlt_...`) a launch gives the page for one teacher.
"""
