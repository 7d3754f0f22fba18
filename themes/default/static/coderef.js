// coderef page script: session-aware header and meter, protected sections unlocked in place,
// inline errors on the register/login forms, the account page, and the lazily loaded search module.
// Every page works without it: protected blocks link to the gate's server-rendered page.

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

const main = document.getElementById("main");
const codeset = main?.dataset.codeset || "";
const code = main?.dataset.code || "";
// Browse pages and non-billable headers open without spending a view (generator/free.py).
const freePage = main?.dataset.free !== undefined;
const meterEl = document.getElementById("meter");
const AUTH_PAGES = ["/register/", "/login/"];

// Every sentence about the meter and the wall comes from the gate (generator/wording.py), in
// the session's `words`, so the page script and the server cannot drift apart.
function words() {
  return session?.words || null;
}
function countText(left) {
  const w = words();
  if (!w) return "";
  if (left === null) return w.unlimited;
  return left === 1 ? w.count_one : w.count.replace("{n}", String(left));
}
function safeNext(raw) {
  // Only same-origin paths: never another host, scheme or protocol-relative URL.
  return typeof raw === "string" && raw.startsWith("/") && !raw.startsWith("//") && !raw.startsWith("/\\") ? raw : "";
}
function currentNext() {
  const params = new URLSearchParams(location.search);
  if (AUTH_PAGES.includes(location.pathname)) return safeNext(params.get("next")) || "/";
  return location.pathname;
}
function withNext(path, next) {
  return `${path}?next=${encodeURIComponent(next)}`;
}
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

// --- session -----------------------------------------------------------------------------------

async function fetchSession() {
  try {
    const r = await fetch("/gate/session", { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } });
    return r.ok ? await r.json() : null;
  } catch {
    return null;
  }
}

function renderHeader(session) {
  const next = currentNext();
  for (const a of $$("a[data-next]")) {
    const base = a.getAttribute("href").split("?")[0];
    a.setAttribute("href", withNext(base, next));
  }
  for (const input of $$("input[data-next-input]")) input.value = next;
  const user = session?.account;
  for (const node of $$('[data-auth="guest"]')) node.hidden = Boolean(user);
  for (const node of $$('[data-auth="user"]')) node.hidden = !user;
  for (const node of $$("[data-session-email]")) node.textContent = user ? user.email : "";
}

function renderMeter(session) {
  if (!meterEl || !session?.words) return;
  const left = session.views_left;
  const count = $("[data-meter-count]", meterEl);
  const rule = $("[data-meter-rule]", meterEl);
  const cta = $("[data-meter-cta]", meterEl);
  const w = session.words;
  count.textContent = countText(left);
  rule.textContent = [w.rule, left === null ? "" : w.renews].filter(Boolean).join(" ");
  meterEl.dataset.state = left === null ? "unlimited" : left === 0 ? "empty" : "ok";
  meterEl.dataset.plan = session.plan;
  if (session.plan === "guest") {
    cta.textContent = "Create free account";
    cta.setAttribute("href", withNext("/register/", currentNext()));
  } else {
    cta.textContent = "Your account";
    cta.setAttribute("href", "/account/");
  }
}

// --- protected sections ------------------------------------------------------------------------

const blocks = $$("section.premium").filter((s) => $('[data-wall="static"]', s));

function setBody(section, state, ...nodes) {
  const body = $(".premium-body", section);
  section.dataset.state = state;
  body.setAttribute("aria-busy", state === "loading" ? "true" : "false");
  body.replaceChildren(...nodes);
}

function skeleton() {
  return el("div", { class: "skeleton", "aria-hidden": "true" }, el("span"), el("span"), el("span"));
}

function wallBox(title, text, actions, extraClass = "") {
  return el(
    "div",
    { class: `wall ${extraClass}`.trim() },
    el("p", { class: "wall-title", text: title }),
    el("p", { class: "wall-text", text }),
    el("p", { class: "wall-actions" }, ...actions),
  );
}

// `said`: the gate's title and text for this wall (a 402 answer's, or the session's words).
function exhaustedWall(plan, said) {
  const next = location.pathname;
  const wall = said || words()?.wall || { title: "", text: "" };
  if (plan === "guest") {
    return wallBox(wall.title, wall.text, [
      el("a", { class: "btn", href: withNext("/register/", next), text: "Create free account" }),
      el("a", { class: "wall-login", href: withNext("/login/", next), text: "Log in" }),
    ]);
  }
  return wallBox(wall.title, wall.text, [
    el("a", { class: "btn", href: "/account/", text: "See plans and upgrade" }),
  ]);
}

function unlockButtonWall(left) {
  const label = (words()?.unlock || "Unlock").replace("{n}", String(left));
  const btn = el("button", { type: "button", class: "btn", "data-unlock": true, text: label });
  btn.addEventListener("click", () => unlock());
  return wallBox("Unlock this code page", `Unlocking shows every protected section of ${code} and uses one of your ${countText(left).replace(" remaining.", "")}.`, [btn]);
}

function errorWall(message) {
  const retry = el("button", { type: "button", class: "btn btn-secondary", text: "Try again" });
  retry.addEventListener("click", () => unlock());
  const gate = $('[data-wall="static"] a[href^="/gate/page/"]');
  return wallBox("This section could not be loaded", message, [
    retry,
    gate ? el("a", { href: gate.getAttribute("href"), text: "Open the full page" }) : null,
  ], "wall-error");
}

function showAll(makeNode, state) {
  for (const s of blocks) setBody(s, state, makeNode());
}

let session = null;

async function unlock() {
  showAll(skeleton, "loading");
  let r;
  try {
    r = await fetch(`/gate/unlock/${encodeURIComponent(codeset)}/${encodeURIComponent(code)}`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: "{}",
    });
  } catch {
    showAll(() => errorWall("The network request failed. Check your connection and try again."), "error");
    return;
  }
  const data = await r.json().catch(() => ({}));
  if (r.ok) {
    const byId = new Map((data.sections || []).map((s) => [s.id, s]));
    for (const s of blocks) {
      const got = byId.get(s.dataset.section);
      const box = el("div", { class: "unlocked" });
      if (got) box.innerHTML = got.html; // trusted HTML from our own gate (the protected store)
      else box.append(el("p", { class: "premium-missing", text: "This section has no content." }));
      setBody(s, "open", box);
    }
    if (session) {
      session.views_left = data.views_left === undefined ? session.views_left : data.views_left;
      renderMeter(session);
    }
  } else if (r.status === 402) {
    if (session) {
      session.views_left = 0;
      renderMeter(session);
    }
    const plan = data.reason === "free_limit" ? "free" : ["guest_limit", "ip_cap"].includes(data.reason) ? "guest" : session?.plan || "guest";
    showAll(() => exhaustedWall(plan, data.title ? { title: data.title, text: data.message } : null), "wall");
  } else if (r.status === 404) {
    showAll(() => errorWall("This code has no protected content on the server."), "error");
  } else {
    showAll(() => errorWall(data.message || `The server answered ${r.status}. Try again in a moment.`), "error");
  }
}

function decide() {
  if (!blocks.length) return;
  if (!session) {
    showAll(() => errorWall("Your session could not be checked."), "error");
    return;
  }
  const left = session.views_left;
  const already = (session.unlocked || []).some((u) => u.codeset === codeset && u.code === code);
  // An already unlocked code or a free page costs nothing; otherwise spend a view only when allowed to.
  if (freePage || already || left === null || (left > 0 && session.auto_unlock !== false)) unlock();
  else if (left > 0) showAll(() => unlockButtonWall(left), "ready");
  else showAll(() => exhaustedWall(session.plan), "wall");
}

// --- register / login forms --------------------------------------------------------------------

const ERRORS = {
  email_taken: ["email", "An account with this email already exists. Log in instead, or use another email."],
  invalid_email: ["email", "Enter a valid email address, such as name@example.com."],
  weak_password: ["password", "This password is too common or easy to guess. Choose a longer, less common one."],
  password_too_short: ["password", "This password is too short. Use at least 8 characters."],
  password_too_long: ["password", "This password is too long. Use at most 1024 bytes."],
  bad_credentials: ["form", "Wrong email or password. Check both and try again."],
  rate_limited: ["form", "Too many attempts. Wait a few minutes and try again."],
};

function initAuthForm(form) {
  const params = new URLSearchParams(location.search);
  let next = safeNext(params.get("next"));
  if (!next && document.referrer) {
    try {
      const ref = new URL(document.referrer);
      if (ref.origin === location.origin && !AUTH_PAGES.includes(ref.pathname)) next = ref.pathname;
    } catch { /* not a URL: keep the default */ }
  }
  if (next) $('input[name="next"]', form).value = next;
  for (const a of $$("a[data-keep-next]")) a.setAttribute("href", withNext(a.getAttribute("href").split("?")[0], next || "/"));
  const email = $('input[name="email"]', form);
  const errCode = params.get("error");
  if (errCode) {
    const [field, message] = ERRORS[errCode] || ["form", "Something went wrong. Try again."];
    const remembered = sessionStorage.getItem("coderef-email");
    if (remembered && email && !email.value) email.value = remembered;
    const summary = $("[data-form-error]", form.parentElement);
    summary.textContent = message;
    summary.hidden = false;
    const input = field === "form" ? null : $(`input[name="${field}"]`, form);
    if (input) {
      const slot = $(`#${input.id}-error`);
      slot.textContent = message;
      slot.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", `${input.id}-error ${input.getAttribute("aria-describedby") || ""}`.trim());
      input.focus();
    } else {
      summary.focus();
    }
  }
  form.addEventListener("submit", () => {
    if (email) sessionStorage.setItem("coderef-email", email.value);
    const btn = $('button[type="submit"]', form);
    if (btn) btn.setAttribute("aria-disabled", "true");
  });
  for (const toggle of $$("[data-toggle-password]", form)) {
    toggle.addEventListener("click", () => {
      const input = document.getElementById(toggle.getAttribute("aria-controls"));
      const show = input.type === "password";
      input.type = show ? "text" : "password";
      toggle.textContent = show ? "Hide password" : "Show password";
    });
  }
}

function renderSignedIn(s) {
  const note = $("[data-signed-in]");
  if (!note || !s?.account) return;
  $("[data-session-email]", note).textContent = s.account.email;
  note.hidden = false;
}

// --- account page ------------------------------------------------------------------------------

function renderAccount(s) {
  const root = $("[data-account]");
  if (!root) return;
  $("[data-account-loading]", root).hidden = true;
  if (!s) {
    $("[data-account-error]", root).hidden = false;
    return;
  }
  const user = s.account;
  $("[data-account-guest]", root).hidden = Boolean(user);
  $("[data-account-user]", root).hidden = !user;
  const allowance = s.allowance === null ? "unlimited" : String(s.allowance);
  for (const node of $$("[data-account-plan]", root)) node.textContent = s.plan === "paid" ? "Paid" : s.plan === "free" ? "Free" : "Guest";
  for (const node of $$("[data-account-used]", root)) node.textContent = `${s.views_used} of ${allowance}`;
  for (const node of $$("[data-account-left]", root)) node.textContent = s.views_left === null ? "Unlimited" : String(s.views_left);
  const list = $("[data-account-unlocked]", root);
  const items = (s.unlocked || []).map((u) =>
    el("li", {}, el("a", { href: `/${encodeURIComponent(u.codeset)}/${encodeURIComponent(u.code)}/` },
      el("span", { class: "cl-code", text: u.code }), el("span", { class: "cl-title", text: u.codeset.toUpperCase() }))));
  list.replaceChildren(...items);
  $("[data-account-none]", root).hidden = items.length > 0;
  $("[data-account-upgrade]", root).hidden = s.plan !== "free";
  const consult = $("[data-account-consult]", root);
  if (user && consult) fillConsultQuota(consult);
}

async function fillConsultQuota(node) {
  try {
    const r = await fetch("/gate/consult/quota", { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } });
    if (r.ok) node.textContent = (await r.json()).message || "";
  } catch {
    /* the line is a hint; /account/consult/ has the figures */
  }
}

// --- search (loaded on first use) ----------------------------------------------------------------

function initSearch() {
  const input = document.getElementById("site-search-q");
  const results = document.getElementById("site-search-results");
  const src = $("script[data-search-src]")?.dataset.searchSrc;
  if (!input || !results || !src) return;
  // The "/" shortcut means nothing on a phone; keep the placeholder whole there.
  if (matchMedia("(max-width: 30rem)").matches) input.placeholder = "Search codes or words";
  let loading = null;
  const load = () => {
    loading ??= import(src)
      .then((mod) => mod.init({ input, results }))
      .catch((err) => {
        loading = null;
        console.error("search failed to load", err);
      });
    return loading;
  };
  input.addEventListener("focus", load, { once: true });
  input.addEventListener("pointerdown", load, { once: true });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    e.preventDefault();
    input.focus();
    load();
  });
  if (document.activeElement === input) load();
}

// --- start -------------------------------------------------------------------------------------

async function start() {
  if (blocks.length) showAll(skeleton, "loading");
  session = await fetchSession();
  renderHeader(session);
  renderMeter(session);
  renderSignedIn(session);
  renderAccount(session);
  decide();
}

document.documentElement.classList.add("js");
initSearch();
for (const form of $$("form[data-auth-form]")) initAuthForm(form);
start();
// Coming back through the history cache: the session may have changed meanwhile.
addEventListener("pageshow", (e) => {
  if (e.persisted) start();
});

// --- index and table pages ------------------------------------------------------------------------

// A table's filter box hides the rows that do not contain what is typed (a row's subterms stay with it).
for (const input of $$("input[data-filter]")) {
  const table = $(input.dataset.filter);
  if (!table) continue;
  const rows = $$("tbody tr", table).map((tr) => [tr, tr.textContent.toLowerCase()]);
  input.addEventListener("input", () => {
    const q = input.value.trim().toLowerCase();
    for (const [tr, text] of rows) tr.hidden = Boolean(q) && !text.includes(q);
  });
}

// A link to a subterm whose subterms moved to a page of their own ("#femur--neck" on the main term's
// page) goes on to that page.
if (location.hash.length > 1 && document.body.classList.contains("index-page")) {
  const id = decodeURIComponent(location.hash.slice(1));
  if (!document.getElementById(id)) {
    const parts = id.split("--");
    for (let n = parts.length - 1; n > 0; n--) {
      const more = document.getElementById(parts.slice(0, n).join("--"))?.querySelector(":scope > a.more");
      if (more) {
        location.replace(`${more.getAttribute("href")}#${id}`);
        break;
      }
    }
  }
}

// --- CasePilot: the question box on code pages, guides and /casepilot/ ------------------------------
// Without JavaScript the form posts to /gate/ask and the gate renders the answer page.

const askForms = $$("form[data-ask-form]");

function askAnswerBox(form) {
  const box = form.closest("[data-ask]") || form.parentElement;
  return $("[data-ask-answer]", box) || $("[data-ask-answer]");
}

function showAskLeft(text) {
  for (const node of $$("[data-ask-left]")) node.textContent = text || "";
}

async function refreshAsks() {
  try {
    const r = await fetch("/gate/asks", { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } });
    if (r.ok) showAskLeft((await r.json()).message);
  } catch {
    /* the count is a hint; asking still works */
  }
}

function askWall(message, guest) {
  const next = location.pathname;
  const actions = guest
    ? [el("a", { class: "btn", href: withNext("/register/", next), text: "Create free account" }),
       el("a", { class: "wall-login", href: withNext("/login/", next), text: "Log in" })]
    : [el("a", { class: "btn", href: "/account/", text: "See plans and upgrade" })];
  return wallBox("No questions left", message, actions, "ask-wall");
}

async function ask(form, question) {
  const box = askAnswerBox(form);
  const button = $("button[type=submit]", form);
  const context = $("input[name=context]", form)?.value || "";
  box.hidden = false;
  box.setAttribute("aria-busy", "true");
  box.replaceChildren(el("p", { class: "ask-wait", text: "CasePilot is looking it up…" }));
  if (button) button.disabled = true;
  let r;
  let data = {};
  try {
    r = await fetch("/gate/ask", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ question, context }),
    });
    data = await r.json().catch(() => ({}));
  } catch {
    r = null;
  } finally {
    if (button) button.disabled = false;
    box.setAttribute("aria-busy", "false");
  }
  if (!r) {
    box.replaceChildren(el("p", { class: "error", role: "alert", text: "The network request failed. Check your connection and ask again." }));
    return;
  }
  if (r.ok) {
    const result = el("div", { class: "ask-result", "data-kind": data.kind || "answer" });
    result.append(el("p", { class: "ask-question" }, el("strong", { text: "You asked: " }), document.createTextNode(question)));
    const body = el("div", { class: "ask-body" });
    body.innerHTML = data.answer?.html || ""; // escaped HTML built by our own gate from the site's data
    result.append(body);
    const cites = data.citations || [];
    if (cites.length) {
      result.append(el("p", { class: "ask-sources-title" }, el("strong", { text: "Sources" })));
      const list = el("ul", { class: "ask-sources" });
      for (const c of cites) {
        const item = el("li", {}, el("a", { href: c.url, text: c.title }));
        if (c.release) item.append(document.createTextNode(` — ${c.release}`));
        list.append(item);
      }
      result.append(list);
    }
    box.replaceChildren(result);
    showAskLeft(data.asks_message);
  } else if (r.status === 402) {
    box.replaceChildren(askWall(data.message || "You have no questions left.", data.reason === "guest_limit"));
    showAskLeft(data.message);
  } else {
    box.replaceChildren(el("p", { class: "error", role: "alert", text: data.message || `The question could not be answered (${r.status}).` }));
  }
}

for (const form of askForms) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const submitter = event.submitter;
    const area = $("textarea[name=question]", form);
    const question = submitter?.name === "question" && submitter.value ? submitter.value : area.value;
    if (submitter?.name === "question") area.value = question;
    if (!question.trim()) {
      area.focus();
      return;
    }
    ask(form, question.trim());
  });
}
// The box, the account page and /plans/ show the questions left.
if (askForms.length || $("[data-ask-left]")) refreshAsks();
