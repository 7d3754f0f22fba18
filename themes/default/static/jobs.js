// The job board in the browser: filters on /jobs/ (no server: every open job is in the page, with its
// facts as data attributes) and the posting form on /jobs/post/ (inline errors, a draft kept while you
// log in). Both pages work without this script: the list shows every job, the form posts to the gate.

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

// --- filters -----------------------------------------------------------------------------------

const WORK = ["remote", "hybrid", "onsite"];
const SELECTS = ["credential", "state", "setting", "type", "salary"];

function words(s) {
  return new Set((s || "").split(" ").filter(Boolean));
}

function readJobs(list) {
  return $$(":scope > li", list).map((li) => ({
    li,
    work: li.dataset.work,
    credentials: words(li.dataset.credentials),
    states: words(li.dataset.states),
    anywhereUS: li.dataset.us === "1",
    settings: words(li.dataset.settings),
    types: words(li.dataset.types),
    pay: li.dataset.pay ? Number(li.dataset.pay) : null,
  }));
}

// The filters as the URL states them: ?remote=1&hybrid=1&credential=CPC&state=OH&setting=…&type=…&salary=50000
export function filtersFrom(search) {
  const p = new URLSearchParams(search);
  const f = { work: WORK.filter((w) => p.get(w) === "1") };
  for (const name of SELECTS) f[name] = (p.get(name) || "").trim();
  return f;
}

export function queryOf(f) {
  const p = new URLSearchParams();
  for (const w of WORK) if (f.work.includes(w)) p.set(w, "1");
  for (const name of SELECTS) if (f[name]) p.set(name, f[name]);
  const q = p.toString();
  return q ? `?${q}` : "";
}

// Whether a job passes every filter except `skip` (counts show what choosing an option would give).
function passes(job, f, skip = "") {
  if (skip !== "work" && f.work.length && !f.work.includes(job.work)) return false;
  if (skip !== "credential" && f.credential && !job.credentials.has(f.credential)) return false;
  if (skip !== "state" && f.state && !(job.states.has(f.state) || job.anywhereUS)) return false;
  if (skip !== "setting" && f.setting && !job.settings.has(f.setting)) return false;
  if (skip !== "type" && f.type && !job.types.has(f.type)) return false;
  if (skip !== "salary" && f.salary && !(job.pay !== null && job.pay >= Number(f.salary))) return false;
  return true;
}

function optionMatches(job, name, value) {
  switch (name) {
    case "credential": return job.credentials.has(value);
    case "state": return job.states.has(value) || job.anywhereUS;
    case "setting": return job.settings.has(value);
    case "type": return job.types.has(value);
    case "salary": return job.pay !== null && job.pay >= Number(value);
    default: return false;
  }
}

function initFilters(form) {
  const list = $("#job-list");
  const status = $("#jobs-status");
  const empty = $("#jobs-empty");
  if (!list) return;
  const jobs = readJobs(list);
  let f = filtersFrom(location.search);

  const formToFilters = () => {
    const out = { work: WORK.filter((w) => form.elements[w]?.checked) };
    for (const name of SELECTS) out[name] = form.elements[name]?.value || "";
    return out;
  };

  const filtersToForm = () => {
    for (const w of WORK) if (form.elements[w]) form.elements[w].checked = f.work.includes(w);
    for (const name of SELECTS) {
      const select = form.elements[name];
      if (!select) continue;
      // A shared link may name a value this build has no job for: keep it, with a count of 0.
      if (f[name] && !$$("option", select).some((o) => o.value === f[name])) {
        select.append(new Option(f[name], f[name]));
        select.lastElementChild.dataset.label = f[name];
      }
      select.value = f[name];
    }
  };

  const draw = () => {
    let shown = 0;
    for (const job of jobs) {
      const ok = passes(job, f);
      job.li.hidden = !ok;
      if (ok) shown += 1;
    }
    for (const w of WORK) {
      const n = jobs.filter((job) => job.work === w && passes(job, f, "work")).length;
      const slot = $(`[data-count-for="${w}"]`, form);
      if (slot) slot.textContent = `(${n})`;
    }
    for (const name of SELECTS) {
      const select = form.elements[name];
      if (!select) continue;
      for (const o of select.options) {
        if (!o.value) continue;
        const n = jobs.filter((job) => passes(job, f, name) && optionMatches(job, name, o.value)).length;
        o.textContent = `${o.dataset.label || o.value} (${n})`;
      }
    }
    const any = f.work.length || SELECTS.some((name) => f[name]);
    status.textContent = any
      ? `${shown} of ${jobs.length} open ${jobs.length === 1 ? "job" : "jobs"} match`
      : `${jobs.length} open ${jobs.length === 1 ? "job" : "jobs"}`;
    if (empty) empty.hidden = shown > 0;
  };

  const update = () => {
    f = formToFilters();
    history.replaceState(null, "", `${location.pathname}${queryOf(f)}`);
    draw();
  };

  form.hidden = false;
  form.addEventListener("change", update);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    update();
  });
  for (const reset of $$("[data-filters-reset]")) {
    reset.addEventListener("click", (e) => {
      e.preventDefault();
      f = filtersFrom("");
      filtersToForm();
      update();
    });
  }
  addEventListener("popstate", () => {
    f = filtersFrom(location.search);
    filtersToForm();
    draw();
  });
  filtersToForm();
  draw();
}

// --- the posting form --------------------------------------------------------------------------

const DRAFT = "coderef-job-draft";

function saveDraft(form) {
  const data = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === "checkbox") (data[el.name] ??= []).push(...(el.checked ? [el.value] : []));
    else if (el.type === "radio") { if (el.checked) data[el.name] = el.value; }
    else data[el.name] = el.value;
  }
  try {
    sessionStorage.setItem(DRAFT, JSON.stringify(data));
  } catch { /* storage full or off: nothing to keep */ }
}

function restoreDraft(form) {
  let data = null;
  try {
    data = JSON.parse(sessionStorage.getItem(DRAFT) || "null");
  } catch { data = null; }
  if (!data || form.dataset.filled === "1") return;
  for (const el of form.elements) {
    if (!el.name || !(el.name in data)) continue;
    const v = data[el.name];
    if (el.type === "checkbox") el.checked = Array.isArray(v) && v.includes(el.value);
    else if (el.type === "radio") el.checked = v === el.value;
    else el.value = v;
  }
}

function clearErrors(form) {
  for (const slot of $$(".field-error", form)) {
    slot.textContent = "";
    slot.hidden = true;
  }
  for (const el of $$("[aria-invalid]", form)) el.removeAttribute("aria-invalid");
  for (const field of $$(".field-invalid", form)) field.classList.remove("field-invalid");
}

function showErrors(form, errors) {
  const summary = $("[data-form-error]", form);
  let first = null;
  for (const [name, message] of Object.entries(errors)) {
    if (name === "form") continue;
    const input = form.elements[name];
    const el = input instanceof RadioNodeList ? input[0] : input;
    if (!el) continue;
    const id = el.id || el.closest(".field")?.querySelector(".field-error")?.id.replace(/-error$/, "");
    const slot = id ? document.getElementById(`${id}-error`) : el.closest(".field")?.querySelector(".field-error");
    if (slot) {
      slot.textContent = message;
      slot.hidden = false;
    }
    el.closest(".field")?.classList.add("field-invalid");
    if (el.id) {
      el.setAttribute("aria-invalid", "true");
      const described = new Set((el.getAttribute("aria-describedby") || "").split(" ").filter(Boolean));
      described.add(`${el.id}-error`);
      el.setAttribute("aria-describedby", [...described].join(" "));
    }
    first ??= el;
  }
  const n = Object.keys(errors).filter((k) => k !== "form").length;
  summary.textContent = errors.form || `Please correct ${n === 1 ? "the field" : `the ${n} fields`} marked below.`;
  summary.hidden = false;
  (first || summary).focus();
}

function initPostForm(form) {
  restoreDraft(form);
  form.addEventListener("input", () => saveDraft(form));
  form.addEventListener("change", () => saveDraft(form));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const button = $('button[type="submit"]', form);
    button.disabled = true;
    let r;
    try {
      r = await fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(new FormData(form)),
      });
    } catch {
      showErrors(form, { form: "The network request failed. Check your connection and try again." });
      button.disabled = false;
      return;
    }
    const data = await r.json().catch(() => ({}));
    button.disabled = false;
    if (r.ok) {
      sessionStorage.removeItem(DRAFT);
      const done = document.createElement("div");
      done.className = "job-posted";
      done.setAttribute("role", "status");
      done.tabIndex = -1;
      const p = document.createElement("p");
      p.textContent = data.message || "Thank you: your job was submitted and waits for review.";
      const a = document.createElement("a");
      a.href = "/gate/jobs/mine";
      a.textContent = "See your posts";
      done.append(p, a);
      form.replaceWith(done);
      done.focus();
    } else if (data.errors) {
      showErrors(form, data.errors);
    } else {
      showErrors(form, { form: data.message || `The server answered ${r.status}. Try again in a moment.` });
    }
  });
}

const filters = document.getElementById("job-filters");
if (filters) initFilters(filters);
const postForm = document.querySelector("form[data-job-form]");
if (postForm) initPostForm(postForm);
