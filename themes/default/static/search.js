// Site search: exact code lookup from small static JSON buckets, then the word index of each code set
// (index lines, table rows, titles…), ranked together. Loaded only when a visitor starts a search
// (coderef.js imports it and calls init) or opens /search/ (the page loads it; the module detects
// #search-page). No inline code or styles.

const DROPDOWN_MAX = 8;
const PAGE_SIZE = 20;

let siteIndex = null; // promise of /lookup/index.json
const lookupIndexes = new Map(); // codeset -> promise of its bucket list
const buckets = new Map(); // url -> promise of bucket json

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
    for (const [key, title, billable, label, change, changeLabel] of doc.codes) {
      if (normalize(key).startsWith(n)) out.push({ codeset: cs.slug, codesetName: cs.name, key, display: label || key, title, billable, change, changeLabel, url: codeUrl(cs.slug, key), exact: normalize(key) === n });
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

// --- words ---------------------------------------------------------------------------------------
//
// Each code set has a word index (generator/words/): token shards (`t-<prefix>.bin`, binary postings),
// entry chunks (`e-<n>.json`: what each indexed phrase leads to) and `meta.json`. An entry is a title, an
// index line, a table row, a PCS index term…; a query's tokens must all be in one entry. The rules below
// (tokens, stem, score) are generator/words/text.py and rank.py, kept equal by a browser test.

const STOP = new Set(["a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"]);
const SHORT = 3; // tokens this short match whole words only: "uti" never finds "utility"
const KEEP_S = ["ss", "is", "us", "as", "os"];
const WEIGHTS = [0.92, 0.85, 1.0, 0.95, 1.0, 1.0, 1.0, 0.6, 0.5];
const EXACT = [1.0, 0.8, 1.0]; // by role: word, modifier, synonym
const PREFIX = [0.7, 0.55, 0.7];

export function fold(text) {
  const t = text.toLowerCase().replace(/['\u2019]/g, "");
  return /^[\x00-\x7f]*$/.test(t) ? t : t.normalize("NFKD").replace(/[^\x00-\x7f]/g, "");
}

const SUFFIXES = ["ion", "ive", "ing", "ed"];

export function stem(word) {
  let w = word;
  if (w.length <= SHORT || /^\d+$/.test(w)) return w;
  if (w.endsWith("s")) {
    if (w.endsWith("ies") && w.length > 4) w = w.slice(0, -3) + "y";
    else if (["sses", "xes", "ches", "shes", "zes"].some((e) => w.endsWith(e))) w = w.slice(0, -2);
    else if (!KEEP_S.some((e) => w.endsWith(e))) w = w.slice(0, -1);
  }
  for (const suffix of SUFFIXES) {
    if (w.endsWith(suffix) && w.length - suffix.length >= 4) {
      w = w.slice(0, -suffix.length);
      break;
    }
  }
  if (w.endsWith("e") && w.length > 4) w = w.slice(0, -1);
  return w;
}

export function words(text) {
  return fold(text).split(/[^0-9a-z_]+/).filter(Boolean).map(stem);
}

export function tokens(text) {
  return words(text).filter((w) => !STOP.has(w));
}

export function queryTokens(q, phrases) {
  let toks = tokens(q);
  if (!toks.length) toks = words(q);
  const out = [];
  for (let i = 0; i < toks.length; ) {
    let n = 4;
    for (; n >= 2; n--) {
      if (i + n <= toks.length && phrases.has(toks.slice(i, i + n).join("_"))) break;
    }
    if (n >= 2) {
      out.push(toks.slice(i, i + n).join("_"));
      i += n;
    } else {
      out.push(toks[i]);
      i += 1;
    }
  }
  return [...new Set(out)];
}

const canPrefix = (t) => t.length > SHORT && !/^\d+$/.test(t) && !t.includes("_");
const quality = (info, exact) => (exact ? EXACT : PREFIX)[info & 3];

export function score(kind, slots, matches) {
  const n = matches.length;
  let sum = 0;
  let covered = 0;
  for (const [m, c] of matches) {
    sum += m;
    covered += c;
  }
  const mean = sum / n;
  const share = slots ? Math.min(1.0, covered / slots) : 1.0;
  let s = WEIGHTS[kind] * mean * (0.35 + 0.65 * share);
  if (covered >= slots && matches.every(([m, , whole]) => whole && m >= 1.0)) s += 1.0;
  return s;
}

function varint(data, pos) {
  let n = 0;
  let shift = 0;
  for (;;) {
    const b = data[pos++];
    n += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [n, pos];
    shift += 7;
  }
}

const files = new Map(); // url -> promise of bytes or json

function getBytes(url) {
  if (!files.has(url)) {
    files.set(url, fetch(url).then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`${url}: ${r.status}`))))
      .then((b) => new Uint8Array(b)).catch((err) => {
        files.delete(url);
        throw err;
      }));
  }
  return files.get(url);
}

function getCachedJSON(url) {
  if (!files.has(url)) {
    files.set(url, getJSON(url).catch((err) => {
      files.delete(url);
      throw err;
    }));
  }
  return files.get(url);
}

function parseShard(data) {
  const out = new Map();
  let pos = 0;
  while (pos < data.length) {
    let n;
    [n, pos] = varint(data, pos);
    const token = new TextDecoder().decode(data.subarray(pos, pos + n));
    pos += n;
    let count;
    let size;
    [count, pos] = varint(data, pos);
    [size, pos] = varint(data, pos);
    out.set(token, size ? data.subarray(pos, pos + size) : null);
    pos += size;
  }
  return out;
}

const shards = new Map(); // url -> promise of parsed shard

function shard(cs, prefix) {
  const url = `${cs.words}t-${prefix}.bin`;
  if (!shards.has(url)) shards.set(url, getBytes(url).then(parseShard));
  return shards.get(url);
}

// entry -> [info, whole word] for a query token (and the tokens it starts), best match per entry.
async function postings(cs, meta, token) {
  const prefix = canPrefix(token);
  const own = meta.shards.filter((p) => token.startsWith(p)).sort((a, b) => b.length - a.length).slice(0, 1);
  const below = prefix ? meta.shards.filter((p) => p.length > token.length && p.startsWith(token)) : [];
  const out = new Map();
  for (const sh of await Promise.all(own.concat(below).map((p) => shard(cs, p)))) {
    for (const [t, inline] of sh) {
      const exact = t === token;
      if (!exact && !(prefix && t.startsWith(token) && !t.includes("_"))) continue;
      const data = inline || (await getBytes(`${cs.words}p-${t}.bin`));
      let pos = 0;
      let entry = 0;
      while (pos < data.length) {
        let delta;
        let info;
        [delta, pos] = varint(data, pos);
        [info, pos] = varint(data, pos);
        entry += delta;
        const old = out.get(entry);
        if (!old || quality(info, exact) > quality(old[0], old[1])) out.set(entry, [info, exact]);
      }
    }
  }
  return out;
}

// [score, entry] of every entry holding all the query's tokens, best first.
async function ranked(cs, meta, q) {
  const toks = queryTokens(q, new Set(meta.phrases));
  if (!toks.length) return [];
  const lists = await Promise.all(toks.map((t) => postings(cs, meta, t)));
  if (lists.some((l) => !l.size)) return [];
  const smallest = lists.reduce((a, b) => (b.size < a.size ? b : a));
  const out = [];
  for (const [entry, first] of smallest) {
    const found = lists.map((l) => l.get(entry));
    if (found.some((f) => !f)) continue;
    const matches = found.map(([info, whole]) => [quality(info, whole), (info >> 2) & 15, whole]);
    out.push([score(first[0] >> 11, (first[0] >> 6) & 31, matches), entry]);
  }
  out.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  return out;
}

const metas = new Map();

function wordMeta(cs) {
  if (!metas.has(cs.slug)) metas.set(cs.slug, getCachedJSON(`${cs.words}meta.json`).catch(() => null));
  return metas.get(cs.slug);
}

async function describe(cs, key) {
  const n = normalize(key);
  const prefixes = await lookupIndex(cs);
  const own = prefixes.filter((p) => n.startsWith(p)).sort((a, b) => b.length - a.length)[0];
  if (own === undefined) return null;
  const doc = await bucket(cs, own);
  return doc.codes.find((row) => normalize(row[0]) === n) || null;
}

// The job board's listings: a small Pagefind bundle (generator/jobs/search.py), one page per job whose
// h3 heading is "Job — <title>, <employer>" with the job's URL segment as its id.
const pagefinds = new Map();

function loadPagefind(cs) {
  if (!pagefinds.has(cs.slug)) {
    pagefinds.set(cs.slug, (async () => {
      const pf = await import(`${cs.pagefind}pagefind.js`);
      await pf.options({ basePath: cs.pagefind, excerptLength: 24 });
      return pf;
    })().catch((err) => {
      pagefinds.delete(cs.slug);
      throw err;
    }));
  }
  return pagefinds.get(cs.slug);
}

async function bundleHits(cs, q) {
  const pf = await loadPagefind(cs);
  const res = await pf.search(q);
  if (!res) return [];
  const pages = await Promise.all(res.results.slice(0, PAGE_SIZE).map((r) => r.data()));
  // Pagefind drops a word it has never seen ("zzqqxx nothing" would list every job saying "nothing"):
  // a listing must hold every word of the query (its stem: the word less an ending of up to two letters).
  const terms = q.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 1);
  const holdsAll = (d) => {
    const text = `${(d.meta && d.meta.title) || ""} ${d.content || ""}`.toLowerCase();
    return terms.every((w) => new RegExp(`\\b${w.slice(0, Math.max(3, w.length - 2))}`).test(text));
  };
  const out = [];
  for (const d of pages.filter(holdsAll)) {
    const a = (d.anchors || []).find((x) => x.id);
    if (!a) continue;
    const heading = a.text || a.id;
    const cut = heading.indexOf(" — ");
    out.push({
      codeset: cs.slug, codesetName: cs.name, key: a.id, display: cut >= 0 ? heading.slice(0, cut) : a.id,
      title: cut >= 0 ? heading.slice(cut + 3) : heading, billable: null, via: "", url: codeUrl(cs.slug, a.id),
    });
  }
  return out;
}

// One search: the matching codes in batches, best first, and per code set how many are known so far.
export async function fullText(q, codeset = "") {
  const index = await loadSiteIndex();
  const bundles = index.codesets.filter((cs) => !cs.words && cs.pagefind && (!codeset || cs.slug === codeset));
  let extra = (await Promise.all(bundles.map((cs) => bundleHits(cs, q).catch(() => [])))).flat();
  const bundleCounts = Object.fromEntries(bundles.map((cs) => [cs.slug, extra.filter((h) => h.codeset === cs.slug).length]));
  const sets = index.codesets.filter((cs) => cs.words && (!codeset || cs.slug === codeset));
  const lists = await Promise.all(sets.map(async (cs, n) => {
    const meta = await wordMeta(cs);
    return meta ? (await ranked(cs, meta, q)).map(([s, e]) => [s, n, e]) : [];
  }));
  const all = lists.flat().sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2] - b[2]);
  const perSet = sets.map((_, n) => lists[n].length);
  const done = sets.map(() => 0); // entries of each code set turned into codes
  const codesOf = sets.map(() => 0);
  const shown = new Set();
  let offset = 0;
  // An entry's row: [n, kind, via, keys]. Rows are fetched in parallel, but codes are claimed in rank
  // order (a code two entries name belongs to the better one, as in generator/words/reader.py).
  const rowOf = async ([, n, entry]) => {
    const meta = await wordMeta(sets[n]);
    const row = (await getCachedJSON(`${sets[n].words}e-${Math.floor(entry / meta.chunk)}.json`))[entry % meta.chunk];
    const [kind, via, ...keys] = row;
    return [n, meta, kind, via, keys];
  };
  const item = async ([n, meta, kind, via, key]) => {
    const cs = sets[n];
    const d = await describe(cs, key);
    return {
      codeset: cs.slug, codesetName: cs.name, key, display: (d && d[3]) || key, title: d ? d[1] : "",
      billable: d ? d[2] : null, change: d ? d[4] : "", changeLabel: d ? d[5] : "", via: via ? `${meta.labels[kind] ? meta.labels[kind] + ": " : ""}${via}` : "", url: codeUrl(cs.slug, key),
    };
  };
  // The next `max` codes, best first (job listings after the codes of the first batch).
  const next = async (max = PAGE_SIZE) => {
    const out = [];
    while (out.length < max && offset < all.length) {
      const batch = all.slice(offset, offset + Math.max(8, max - out.length));
      offset += batch.length;
      const picked = [];
      for (const [n, meta, kind, via, keys] of await Promise.all(batch.map(rowOf))) {
        done[n] += 1;
        for (const key of keys) {
          const id = `${sets[n].slug}/${key}`;
          if (shown.has(id)) continue;
          shown.add(id);
          codesOf[n] += 1;
          picked.push([n, meta, kind, via, key]);
        }
      }
      out.push(...(await Promise.all(picked.map(item))));
    }
    const jobs = extra;
    extra = [];
    return out.concat(jobs);
  };
  const counts = async () => {
    const out = {};
    sets.forEach((cs, n) => {
      out[cs.slug] = { n: codesOf[n], more: done[n] < perSet[n] };
    });
    for (const [slug, n] of Object.entries(bundleCounts)) out[slug] = { n, more: false };
    return out;
  };
  return {
    total: all.length + extra.length, counts, next, rest: async () => [], more: () => offset < all.length,
  };
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

// "New in FY2026", "Revised in FY2026", "Terminated 2021-12-31": the badge the lookup files give a code.
function changeBadge(it) {
  return it.change ? el("span", { class: `badge badge-change badge-${it.change}`, text: it.changeLabel || it.change }) : null;
}

// Billable or header, as the lookup files say (browse pages have neither).
function statusOf(it) {
  if (it.billable === 1 || it.billable === true) return "Billable";
  if (it.billable === 0 || it.billable === false) return "Header";
  return "";
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
        el("span", { class: "search-set", text: it.codesetName }),
        statusOf(it) ? el("span", { class: `search-status search-status-${it.billable ? "ok" : "head"}`, text: statusOf(it) }) : null,
        changeBadge(it)));
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
      const words = ft.total ? await ft.next(DROPDOWN_MAX) : [];
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
      statusOf(it) ? el("span", { class: `search-status search-status-${it.billable ? "ok" : "head"}`, text: statusOf(it) }) : null,
      changeBadge(it),
      it.via ? el("p", { class: "search-excerpt" }, ...highlighted(it.via, q)) : null);

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
    const ft = codes.length && looksLikeCode(q) ? await codeOnly(q, codes) : await fullText(q, codeset);
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
