"""CareerCenter on the gate: employers post jobs (`views.py`), posts wait in a moderation queue
(`posts.py`), editors approve, reject or expire them on the web or with `coderef jobs …`
(`moderation.py`, `cli.py`); an approved post becomes a listing file, published by a jobs-only build."""
