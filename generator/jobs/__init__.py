"""CareerCenter, the job board: listings from `content/jobs/*.md` become job pages, `/jobs/` with
filters that run in the browser, an Atom feed and a sitemap (see `stage.py`); a jobs-only change is
published without a full build (see `publish.py`)."""
