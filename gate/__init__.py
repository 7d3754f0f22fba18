"""The gate: accounts, signed sessions, the metered unlock of protected sections, and the server
side of the products.

Layout (grouped by product; `app.py` is the one place that wires routes):

- `app.py` wiring; `context.py` the request context, read once at the edge; `core.py` the shared
  state (settings, database, store, signer) and the visitor; `settings.py`, `db.py`,
  `security.py` (headers, cross-site verdict), `web.py` (bodies, error answers), `store.py`
  (the one reader of the protected store), `serving.py`, `static.py`, `cli.py`.
- `accounts/` passwords, cookies and sessions, account rows, login limits, the auth routes.
- `meter/` allowances, the one unlock decision (`decision.py`) and its answer (`answers.py`),
  the fast path (`hotpath.py`), the no-JavaScript pages, the meter's routes.
- Room for the other products, each a sub-package of its own with its routes wired in `app.py`:
  `mail/` (outbox, SMTP client: shared by consult and accounts), `consult/` (SMTP server, cases,
  inbox), `assistant/` (question → tools → cited answer), `jobs/` (posting, moderation),
  `billing/` (plans, Stripe checkout and webhook).
"""
