// Site search: exact code lookup from small static JSON buckets, then Pagefind full text (one bundle per
// code set, merged). Loaded only when a visitor starts a search (coderef.js imports it and calls init)
// or opens /search/ (the page loads it; the module detects #search-page). No inline code or styles.

const DROPDOWN_MAX = 8;
const PAGE_SIZE = 20;
const PAGES_PER_BATCH = 6; // Pagefind pages (groups of codes) whose fragments one batch loads

let siteIndex = null; // promise of /lookup/index.json
const lookupIndexes = new Map(); // codeset -> promise of its bucket list
const buckets = new Map(); // url -> promise of bucket json
let pagefind = null; // promise of the merged Pagefind instance
let filtersLoaded = null;

export const normalize = (q) => q.toLowerCase().replace(/[^0-9a-z]/g, "");

function getJSON(url) {
  return fetch(url).then((r) => (r.ok ? r.json() : Promise.reject(new Error(`${url}: ${r.status}`))));
}

function loadSiteIndex() {
  siteIndex ??= getJSON("/lookup/index.json").catch((err) => {
    siteIndex = null;
    throw err;
  });
  return siteIndex;
}

function codeUrl(codeset, key) {
  return `/${codeset}/${encodeURIComponent(key)}/`;
}

// --- exact code lookup ---------------------------------------------------------------------------

function looksLikeCode(q) {
  const t = q.trim();
  return t.length >= 2 && !/\s/.test(t) && /\d/.test(t) && normalize(t).length >= 2;
}

function bucket(cs, prefix) {
  const url = `${cs.lookup}${prefix}.json`;
  if (!buckets.has(url)) buckets.set(url, getJSON(url).catch(() => ({ codes: [] })));
  return buckets.get(url);
}

function lookupIndex(cs) {
  if (!lookupIndexes.has(cs.slug)) {
    lookupIndexes.set(cs.slug, getJSON(`${cs.lookup}index.json`).then((d) => d.buckets).catch(() => []));
  }
  return lookupIndexes.get(cs.slug);
}

// Codes of one code set equal to or starting with `n`: the bucket holding `n` itself, then (if short of
// `max`) the buckets below it, in official order.
async function lookupIn(cs, n, max) {
  const prefixes = await lookupIndex(cs);
  const own = prefixes.filter((p) => n.startsWith(p)).sort((a, b) => b.length - a.length)[0];
  const below = prefixes.filter((p) => p.length > n.length && p.startsWith(n)).sort();
  const wanted = (own ? [own] : []).concat(below.slice(0, 3));
  const out = [];
  for (const prefix of wanted) {
    const doc = await bucket(cs, prefix);
    for (const [key, title, billable] of doc.codes) {
      if (normalize(key).startsWith(n)) out.push({ codeset: cs.slug, codesetName: cs.name, key, title, billable, url: codeUrl(cs.slug, key), exact: normalize(key) === n });
    }
    if (out.length >= max) break;
  }
  out.sort((a, b) => (b.exact - a.exact));
  return out.slice(0, max);
}

export async function lookupCodes(q, codeset = "", max = DROPDOWN_MAX) {
  if (!looksLikeCode(q)) return [];
  const n = normalize(q);
  const index = await loadSiteIndex();
  const sets = index.codesets.filter((cs) => !codeset || cs.slug === codeset);
  const found = (await Promise.all(sets.map((cs) => lookupIn(cs, n, max)))).flat();
  // Exact codes first, then shorter (more general) codes, keeping official order within a length.
  found.sort((a, b) => (b.exact - a.exact) || (normalize(a.key).length - normalize(b.key).length));
  return found.slice(0, max);
}

// --- full text (Pagefind) ------------------------------------------------------------------------

function loadPagefind() {
  pagefind ??= (async () => {
    const index = await loadSiteIndex();
    const [first, ...rest] = index.codesets;
    if (!first) return null;
    const pf = await import(`${first.pagefind}pagefind.js`);
    await pf.options({ basePath: first.pagefind, excerptLength: 24 });
    for (const cs of rest) await pf.mergeIndex(cs.pagefind);
    return pf;
  })().catch((err) => {
    pagefind = null;
    throw err;
  });
  return pagefind;
}

// Pagefind's excerpt starts with the heading the result already shows.
function withoutHeading(excerpt, heading) {
  const t = excerpt.startsWith(heading) ? excerpt.slice(heading.length).replace(/^[.\s]+/, "") : excerpt;
  return t;
}

function subResults(data, names) {
  const out = [];
  const cs = data.meta?.codeset || "";
  for (const sub of data.sub_results || []) {
    const hash = sub.url.indexOf("#");
    if (hash < 0) continue; // text before the first code heading: nothing to link to
    const key = decodeURIComponent(sub.url.slice(hash + 1));
    const heading = sub.title || key;
    const cut = heading.indexOf(" — ");
    const score = (sub.weighted_locations || []).reduce((s, w) => s + (w.balanced_score || 0), 0);
    out.push({
      codeset: cs, codesetName: names[cs] || cs, key,
      display: cut >= 0 ? heading.slice(0, cut) : key,
      title: cut >= 0 ? heading.slice(cut + 3) : heading,
      excerpt: withoutHeading(sub.plain_excerpt || "", heading), url: codeUrl(cs, key), score,
    });
  }
  return out;
}

// Words in nearly every title ("of", "with") add large index chunks to download and change no result.
const STOP = new Set(["a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"]);

function searchTerms(q) {
  const words = q.trim().split(/\s+/);
  const kept = words.filter((w) => !STOP.has(w.toLowerCase()));
  return (kept.length ? kept : words).join(" ");
}

// One search: Pagefind results (groups of codes) and the function that loads their codes in batches.
export async function fullText(q, codeset = "", withCounts = false) {
  const pf = await loadPagefind();
  // The filter chunks carry the per-code-set counts; only the search page shows them.
  if (pf && (withCounts || codeset)) await (filtersLoaded ??= pf.filters());
  const index = await loadSiteIndex();
  const names = Object.fromEntries(index.codesets.map((cs) => [cs.slug, cs.name]));
  if (!pf || !q.trim()) return { total: 0, counts: {}, next: async () => [], more: () => false };
  const res = await pf.search(searchTerms(q), codeset ? { filters: { codeset } } : {});
  if (!res) return { total: 0, counts: {}, next: async () => [], more: () => false }; // a newer search replaced this one
  let offset = 0;
  const next = async () => {
    const slice = res.results.slice(offset, offset + PAGES_PER_BATCH);
    offset += slice.length;
    const datas = await Promise.all(slice.map((r) => r.data()));
    let subs = datas.flatMap((d) => subResults(d, names));
    subs.sort((a, b) => b.score - a.score);
    // Pagefind matches a code it does not know loosely (e.g. "27252" hits the word "2"): for a
    // code-like query keep only hits as strong as the best one's half.
    if (looksLikeCode(q) && subs.length) subs = subs.filter((s) => s.score >= subs[0].score / 2);
    return subs;
  };
  const counts = res.totalFilters?.codeset || res.filters?.codeset || {};
  return { total: res.results.length, counts, next, more: () => offset < res.results.length };
}

// The lookup's answer in fullText's shape, counted per code set.
async function codeOnly(q, codes) {
  const counts = {};
  for (const c of codes) counts[c.codeset] = (counts[c.codeset] || 0) + 1;
  return { total: 0, counts, next: async () => [], more: () => false };
}

// --- shared rendering ----------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

// Marks the query's words in a plain text, without HTML parsing.
function highlighted(text, q) {
  const words = q.toLowerCase().split(/\s+/).filter((w) => w.length > 1).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  if (!words.length) return [document.createTextNode(text)];
  const re = new RegExp(`(${words.join("|")})`, "ig");
  return text.split(re).map((part, i) => (i % 2 ? el("mark", { text: part }) : document.createTextNode(part)));
}

function dedupe(items) {
  const seen = new Set();
  return items.filter((it) => {
    const id = `${it.codeset}/${it.key}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

// --- the header combobox -------------------------------------------------------------------------

let comboReady = false;

export async function init({ input, results }) {
  if (comboReady || !input || !results) return;
  comboReady = true;
  results.setAttribute("role", "listbox");
  results.setAttribute("aria-label", "Search suggestions");
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  let items = [];
  let active = -1;
  let seq = 0;
  let timer = 0;
  let exact = null;

  const close = () => {
    results.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const setActive = (i) => {
    const opts = results.querySelectorAll("[role=option]");
    active = opts.length ? (i + opts.length) % opts.length : -1;
    opts.forEach((o, n) => o.setAttribute("aria-selected", n === active ? "true" : "false"));
    if (active >= 0) {
      input.setAttribute("aria-activedescendant", opts[active].id);
      opts[active].scrollIntoView({ block: "nearest" });
    }
  };
  const render = (q, list, status) => {
    const was = active >= 0 ? results.querySelectorAll("[role=option]")[active]?.getAttribute("href") : null;
    items = list;
    const opts = list.map((it, i) =>
      el("a", { role: "option", id: `site-search-opt-${i}`, class: "search-option", href: it.url, "aria-selected": "false", tabindex: "-1" },
        el("span", { class: "search-code", text: it.display || it.key }),
        el("span", { class: "search-title" }, ...highlighted(it.title || "", q)),
        el("span", { class: "search-set", text: it.codesetName })));
    const all = el("a", { role: "option", id: `site-search-opt-${list.length}`, class: "search-option search-all", href: `/search/?q=${encodeURIComponent(q)}`, "aria-selected": "false", tabindex: "-1" },
      el("span", { text: status || `See all results for “${q}”` }));
    results.replaceChildren(...opts, all);
    results.hidden = false;
    input.setAttribute("aria-expanded", "true");
    active = -1;
    input.removeAttribute("aria-activedescendant");
    // Late results must not move the option the visitor has already chosen with the arrow keys.
    const keep = was ? [...results.querySelectorAll("[role=option]")].findIndex((o) => o.getAttribute("href") === was) : -1;
    if (keep >= 0) setActive(keep);
  };
  const run = async () => {
    const q = input.value.trim();
    const mine = ++seq;
    if (!q) {
      exact = null;
      close();
      return;
    }
    try {
      const codes = await lookupCodes(q);
      if (mine !== seq) return;
      exact = codes.find((c) => c.exact) || null;
      if (codes.length) render(q, codes);
      if (codes.length && looksLikeCode(q)) return; // a code and its family: no full-text download
      const ft = await fullText(q);
      if (mine !== seq) return;
      const words = ft.total ? await ft.next() : [];
      if (mine !== seq) return;
      const list = dedupe(codes.concat(words)).slice(0, DROPDOWN_MAX);
      render(q, list, list.length ? "" : `No matches for “${q}” — search all`);
    } catch (err) {
      if (mine === seq) render(q, [], "Search is unavailable right now — open the search page");
      console.error("search failed", err);
    }
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(run, 90);
  });
  input.addEventListener("keydown", (e) => {
    const open = !results.hidden;
    if (e.key === "ArrowDown") {
      e.preventDefault();
      if (!open && input.value.trim()) run();
      else setActive(active + 1);
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      if (open) setActive(active - 1);
    } else if (e.key === "Escape") {
      if (open) {
        e.preventDefault();
        close();
      }
    } else if (e.key === "Enter") {
      const opts = results.querySelectorAll("[role=option]");
      if (open && active >= 0 && opts[active]) {
        e.preventDefault();
        location.assign(opts[active].getAttribute("href"));
      } else if (exact && normalize(exact.key) === normalize(input.value)) {
        e.preventDefault();
        location.assign(exact.url);
      } else if (looksLikeCode(input.value)) {
        // The lookup may still be on its way: wait for it rather than fall back to the search page.
        e.preventDefault();
        lookupCodes(input.value).then((codes) => {
          const hit = codes.find((c) => c.exact);
          if (hit) location.assign(hit.url);
          else input.form?.submit();
        }).catch(() => input.form?.submit());
      }
    }
  });
  input.addEventListener("focus", () => {
    if (input.value.trim() && results.childElementCount) {
      results.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
  });
  document.addEventListener("pointerdown", (e) => {
    if (!input.form?.contains(e.target)) close();
  });
  input.form?.addEventListener("focusout", (e) => {
    if (!input.form.contains(e.relatedTarget)) close();
  });
  loadSiteIndex().catch(() => {});
  if (input.value.trim()) run();
}

// --- the /search/ page ---------------------------------------------------------------------------

function cameFromAnotherPage() {
  try {
    const ref = new URL(document.referrer);
    return ref.origin === location.origin && ref.pathname !== location.pathname;
  } catch {
    return false;
  }
}

async function initPage(root) {
  const form = root.querySelector("form");
  const input = root.querySelector("#search-page-q");
  const chips = root.querySelector("#search-page-chips");
  const status = root.querySelector("#search-page-status");
  const list = root.querySelector("#search-page-results");
  const more = root.querySelector("#search-page-more");
  const params = new URLSearchParams(location.search);
  let codeset = params.get("codeset") || "";
  input.value = params.get("q") || "";
  let seq = 0;
  let timer = 0;
  let shown = [];
  let current = null;

  const item = (it, q) =>
    el("li", { class: "search-hit" },
      el("a", { href: it.url, class: "search-hit-link" },
        el("span", { class: "search-code", text: it.display || it.key }),
        el("span", { class: "search-title" }, ...highlighted(it.title || "", q))),
      el("span", { class: "search-set", text: it.codesetName }),
      it.excerpt ? el("p", { class: "search-excerpt" }, ...highlighted(it.excerpt, q)) : null);

  const drawChips = (index, counts, q) => {
    const chip = (slug, label, count) => {
      const b = el("button", { type: "button", class: "chip", "aria-pressed": String(codeset === slug), "data-codeset": slug },
        el("span", { text: label }), count === null ? null : el("span", { class: "chip-count", text: String(count) }));
      b.addEventListener("click", () => {
        codeset = slug;
        search(true);
      });
      return b;
    };
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    chips.replaceChildren(
      chip("", "All code sets", q ? total : null),
      ...index.codesets.map((cs) => chip(cs.slug, cs.name, q ? counts[cs.slug] || 0 : null)));
  };

  const search = async (push) => {
    const q = input.value.trim();
    const mine = ++seq;
    const url = new URL(location.href);
    url.search = "";
    if (q) url.searchParams.set("q", q);
    if (codeset) url.searchParams.set("codeset", codeset);
    history[push ? "pushState" : "replaceState"](null, "", url);
    document.title = q ? `“${q}” — Search` : "Search";
    const index = await loadSiteIndex();
    if (!q) {
      drawChips(index, {}, "");
      list.replaceChildren();
      status.textContent = "Type a code (e.g. S72.001A, 27252) or words (e.g. hip dislocation).";
      more.hidden = true;
      return;
    }
    status.textContent = "Searching…";
    if (!push && !codeset && cameFromAnotherPage()) {
      // Enter in a header box before the search module had loaded submits the form: an exact code
      // still goes straight to its page.
      const hit = (await lookupCodes(q, "", 1)).find((c) => c.exact);
      if (hit && mine === seq) {
        location.replace(hit.url);
        return;
      }
    }
    const codes = await lookupCodes(q, codeset, PAGE_SIZE);
    if (mine !== seq) return;
    // A code query answered by the lookup files needs no full-text index (and its download).
    const ft = codes.length && looksLikeCode(q) ? await codeOnly(q, codes) : await fullText(q, codeset, true);
    if (mine !== seq) return;
    current = ft;
    const words = ft.total ? await ft.next() : [];
    if (mine !== seq) return;
    shown = dedupe(codes.concat(words));
    drawChips(index, ft.counts, q);
    list.replaceChildren(...shown.map((it) => item(it, q)));
    status.textContent = shown.length
      ? `${shown.length}${ft.more() ? "+" : ""} matching codes for “${q}”${codeset ? ` in ${index.codesets.find((c) => c.slug === codeset)?.name || codeset}` : ""}.`
      : `No codes match “${q}”.`;
    more.hidden = !ft.more();
  };

  more.addEventListener("click", async () => {
    if (!current) return;
    const mine = seq;
    const q = input.value.trim();
    const extra = dedupe(shown.concat(await current.next())).slice(shown.length);
    if (mine !== seq) return;
    shown = shown.concat(extra);
    list.append(...extra.map((it) => item(it, q)));
    status.textContent = `${shown.length}${current.more() ? "+" : ""} matching codes for “${q}”.`;
    more.hidden = !current.more();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearTimeout(timer);
    search(true);
  });
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => search(false), 150);
  });
  window.addEventListener("popstate", () => {
    const p = new URLSearchParams(location.search);
    input.value = p.get("q") || "";
    codeset = p.get("codeset") || "";
    search(false);
  });
  root.classList.add("search-ready");
  try {
    await search(false);
  } catch (err) {
    status.textContent = "Search is unavailable right now.";
    console.error("search failed", err);
  }
}

const page = document.getElementById("search-page");
if (page) initPage(page);
