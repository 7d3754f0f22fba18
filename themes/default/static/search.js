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
  // The job board's bundle has no code lookup files.
  const sets = index.codesets.filter((cs) => cs.lookup && (!codeset || cs.slug === codeset));
  const found = (await Promise.all(sets.map((cs) => lookupIn(cs, n, max)))).flat();
  // Exact codes first, then shorter (more general) codes, keeping official order within a length.
  found.sort((a, b) => (b.exact - a.exact) || (normalize(a.key).length - normalize(b.key).length));
  return found.slice(0, max);
}

// --- full text (Pagefind) ------------------------------------------------------------------------
//
// Each Pagefind page is a family of codes (an ICD-10-CM category, the body parts of a PCS root operation)
// with one heading per code; its Pagefind title is the family's title, so a query made of a family's
// words ranks that family's page first. Pagefind matches pages; this module then matches the codes of
// the loaded pages itself: every query word must be in a code's own title or text, codes with every
// word in their title come first, then page rank, then higher-level (shorter) codes, then official order.

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

// Words in nearly every title ("of", "with") add large index chunks to download and change no result.
const STOP = new Set(["a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"]);
// A light English stem, close enough to Pagefind's for "does this code contain the word": Pagefind
// already matched the page, this only decides which of its codes did.
const SUFFIX = /(?:ations?|ions?|ings?|ies|ied|es|ed|s|e|y)$/;

export function queryWords(q) {
  const words = q.toLowerCase().split(/[^0-9a-z]+/).filter(Boolean);
  const kept = words.filter((w) => !STOP.has(w));
  return kept.length ? kept : words;
}

function stem(w) {
  const s = w.replace(SUFFIX, "");
  return s.length >= 3 ? s : w;
}

const tokens = (text) => text.toLowerCase().split(/[^0-9a-z]+/).filter(Boolean);
const hasAll = (toks, stems) => stems.every((s) => toks.some((t) => t.startsWith(s)));
// Browse nodes ("chapter-19", "S70-S79") before categories before subcategories before codes.
const depth = (key) => (key.includes("-") ? 1 : normalize(key).length);

// Pagefind's excerpt starts with the heading the result already shows.
function withoutHeading(excerpt, heading) {
  return excerpt.startsWith(heading) ? excerpt.slice(heading.length).replace(/^[.\s]+/, "") : excerpt;
}

// The codes of one loaded page that match every query word, with their sort keys.
function codesOf(data, stems, rank, names) {
  const cs = data.filters?.codeset?.[0] || data.meta?.codeset || "";
  // Pagefind's word locations count the page text's whitespace-separated words.
  const words = (data.content || "").trim().split(/\s+/);
  const anchors = (data.anchors || []).filter((a) => a.id).sort((a, b) => a.location - b.location);
  const excerpts = new Map();
  for (const sub of data.sub_results || []) {
    const hash = sub.url.indexOf("#");
    if (hash >= 0) excerpts.set(decodeURIComponent(sub.url.slice(hash + 1)), withoutHeading(sub.plain_excerpt || "", sub.title || ""));
  }
  const out = [];
  anchors.forEach((a, i) => {
    const heading = a.text || a.id;
    const headWords = heading.trim().split(/\s+/).length;
    const end = i + 1 < anchors.length ? anchors[i + 1].location : words.length;
    const titleToks = tokens(heading);
    const tier = hasAll(titleToks, stems) ? 0 : hasAll(titleToks.concat(tokens(words.slice(a.location + headWords, end).join(" "))), stems) ? 1 : -1;
    if (tier < 0) return;
    // An h3 heading starts with the node's label ("Chapter 19 — ...").
    const cut = a.element === "h3" ? heading.indexOf(" — ") : -1;
    out.push({
      codeset: cs, codesetName: names[cs] || cs, key: a.id,
      display: cut >= 0 ? heading.slice(0, cut) : a.id,
      title: cut >= 0 ? heading.slice(cut + 3) : heading,
      excerpt: tier === 0 ? "" : excerpts.get(a.id) || "", url: codeUrl(cs, a.id),
      sort: [tier, rank, depth(a.id), i],
    });
  });
  return out;
}

function byRank(a, b) {
  for (let i = 0; i < a.sort.length; i++) if (a.sort[i] !== b.sort[i]) return a.sort[i] - b.sort[i];
  return 0;
}

const PROBE_RANK = 1e6; // pages loaded only to count a code set's matches sort after every ranked page

// One search: the matching codes in batches, and per code set how many of them are known so far.
export async function fullText(q, codeset = "", withCounts = false) {
  const none = { total: 0, counts: async () => ({}), next: async () => [], rest: async () => [], more: () => false };
  const pf = await loadPagefind();
  // The filter chunks carry the per-code-set page counts; only the search page and a filter need them.
  if (pf && (withCounts || codeset)) await (filtersLoaded ??= pf.filters());
  const index = await loadSiteIndex();
  const names = Object.fromEntries(index.codesets.map((cs) => [cs.slug, cs.name]));
  const words = queryWords(q);
  if (!pf || !words.length) return none;
  const stems = words.map(stem);
  const terms = words.join(" ");
  const res = await pf.search(terms, codeset ? { filters: { codeset } } : {});
  if (!res) return none; // a newer search replaced this one
  const pagesPer = res.totalFilters?.codeset || res.filters?.codeset || {};
  const loaded = new Map(); // page id -> promise of {codeset, codes}
  const shown = new Set();
  const load = (r, rank) => {
    if (!loaded.has(r.id)) {
      loaded.set(r.id, r.data().then((d) => {
        const codes = codesOf(d, stems, rank, names);
        return { codeset: codes[0]?.codeset || d.filters?.codeset?.[0] || "", codes };
      }));
    }
    return loaded.get(r.id);
  };
  const fresh = (codes) => codes.filter((c) => {
    const id = `${c.codeset}/${c.key}`;
    if (shown.has(id) || (codeset && c.codeset !== codeset)) return false;
    shown.add(id);
    return true;
  });
  let offset = 0;
  let extra = []; // codes of pages loaded for the counts, shown after the current batch
  // The next batch of codes, best first. A batch of pages without one matching code (Pagefind matched
  // the words across different codes, or only a prefix of a nonsense word) is skipped, a few at most.
  const next = async () => {
    let out = fresh(extra);
    extra = [];
    for (let tries = 0; !out.length && tries < 3 && offset < res.results.length; tries++) {
      const slice = res.results.slice(offset, offset + PAGES_PER_BATCH);
      const pages = await Promise.all(slice.map((r, i) => load(r, offset + i)));
      offset += slice.length;
      out = fresh(pages.flatMap((p) => p.codes));
    }
    return out.sort(byRank);
  };
  // Matching codes per code set among the loaded pages ({n, more}); a code set with matching pages none
  // of which is loaded yet gets its best page loaded, so every count is a count of codes.
  const counts = async () => {
    const out = {};
    await Promise.all(index.codesets.map(async (cs) => {
      const pages = pagesPer[cs.slug] || 0;
      let mine = (await Promise.all(loaded.values())).filter((p) => p.codeset === cs.slug);
      if (pages && !mine.length) {
        const probe = await pf.search(terms, { filters: { codeset: cs.slug } });
        const top = probe?.results?.[0];
        if (top) {
          const page = await load(top, PROBE_RANK);
          mine = [page];
          if (!codeset) extra = extra.concat(page.codes);
        }
      }
      const n = mine.reduce((sum, p) => sum + p.codes.length, 0);
      out[cs.slug] = { n, more: n > 0 && pages > mine.length };
    }));
    return out;
  };
  // The codes of pages `counts` loaded that `next` has not returned yet.
  const rest = async () => {
    const out = fresh(extra).sort(byRank);
    extra = [];
    return out;
  };
  return { total: res.results.length, counts, next, rest, more: () => offset < res.results.length || extra.length > 0 };
}

// The lookup's answer in fullText's shape, counted per code set.
async function codeOnly(q, codes) {
  const counts = {};
  for (const c of codes) counts[c.codeset] = { n: (counts[c.codeset]?.n || 0) + 1, more: false };
  return { total: 0, counts: async () => counts, next: async () => [], rest: async () => [], more: () => false };
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

  // Counts are codes: those found in the pages loaded so far, "+" when more pages of the code set match.
  const label = (c) => `${c.n}${c.more ? "+" : ""}`;
  const drawChips = (index, counts, q) => {
    const chip = (slug, name, c) => {
      const b = el("button", { type: "button", class: "chip", "aria-pressed": String(codeset === slug), "data-codeset": slug,
        title: c ? `${label(c)} matching code${c.n === 1 && !c.more ? "" : "s"}` : null },
        el("span", { text: name }), c ? el("span", { class: "chip-count", text: label(c) }) : null);
      b.addEventListener("click", () => {
        codeset = slug;
        search(true);
      });
      return b;
    };
    const all = Object.values(counts).reduce((a, c) => ({ n: a.n + c.n, more: a.more || c.more }), { n: 0, more: false });
    chips.replaceChildren(
      chip("", "All code sets", q ? all : null),
      ...index.codesets.map((cs) => chip(cs.slug, cs.name, q ? counts[cs.slug] || { n: 0, more: false } : null)));
  };

  // The status agrees with the chips: "+" when the code set(s) shown have matching pages not loaded yet.
  const describe = (q, index, counts) => {
    const where = codeset ? ` in ${index.codesets.find((c) => c.slug === codeset)?.name || codeset}` : "";
    const plus = Object.entries(counts).some(([cs, c]) => c.more && (!codeset || cs === codeset));
    return shown.length
      ? `${shown.length}${plus ? "+" : ""} matching code${shown.length === 1 && !plus ? "" : "s"} for “${q}”${where}.`
      : `No codes match “${q}”${where}.`;
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
    const counts = await ft.counts();
    const tail = await ft.rest();
    if (mine !== seq) return;
    shown = dedupe(codes.concat(words, tail));
    drawChips(index, counts, q);
    list.replaceChildren(...shown.map((it) => item(it, q)));
    status.textContent = describe(q, index, counts);
    more.hidden = !ft.more();
  };

  more.addEventListener("click", async () => {
    if (!current) return;
    const mine = seq;
    const q = input.value.trim();
    const extra = dedupe(shown.concat(await current.next())).slice(shown.length);
    const counts = await current.counts();
    if (mine !== seq) return;
    shown = shown.concat(extra);
    list.append(...extra.map((it) => item(it, q)));
    const index = await loadSiteIndex();
    drawChips(index, counts, q);
    status.textContent = describe(q, index, counts);
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
