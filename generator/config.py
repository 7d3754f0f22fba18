"""`content/site.yml`: a typed schema validated in one pass, with file:line in every message."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from .errors import Problems
from .model import CODESET_NAMES

# Section kinds and whether they are protected by default. Hand-written sections can override
# per section in their page's front matter; config overrides per kind.
# The CMS kinds whose quarterly releases are kept side by side (generator/premium/releases.py).
RELEASED_KINDS = ("ncci-ptp-practitioner", "ncci-ptp-hospital", "mue-practitioner", "mue-hospital", "mue-dme")
_ISO_DATE = re.compile(r"^20\d\d-[01]\d-[0-3]\d$")

DEFAULT_PROTECTED: dict[str, bool] = {
    "description": False,
    "summary": False,
    "status": False,
    "hierarchy": False,
    "notes": False,
    "inclusion-terms": False,
    "includes": False,
    "index-entries": False,
    "pcs-table": False,
    "pcs-definitions": False,
    "history": False,
    "excludes1": True,
    "excludes2": True,
    "code-first": True,
    "use-additional-code": True,
    "code-also": True,
    "seventh-character": True,
    "handwritten": True,
    "ncci-ptp": True,
    "mue": True,
    "ncci-mue-history": True,
    "rvu": True,
    "add-on-codes": True,
    "crosswalk": True,
}

PERIODS = ("lifetime", "month")


@dataclass
class Meter:
    """Allowances: code pages unlocked per period, None = unlimited."""

    auto_unlock: bool = True
    period: str = "month"  # "lifetime", "month" or "rolling:N" (N days)
    plans: dict[str, int | None] = field(
        default_factory=lambda: {"guest": 1, "free": 6, "paid": None}
    )
    guest_ip_cap: int = 20  # guest unlocks per client IP per period, all guest cookies together
    require_verified_email: bool = False  # free accounts get their views once their address is verified


@dataclass
class Consult:
    """CaseConsultant, the email coding consultant (`consult:` in site.yml)."""

    address: str = ""  # where questions are mailed; "" = ask@<the base_url host>
    plans: dict[str, int | None] = field(default_factory=lambda: {"free": 1, "paid": 10})
    """Questions per period per plan; a plan not listed (and guests) has no consults; null = unlimited."""
    period: str = "month"  # "month" (calendar) or "rolling:N" (days)
    max_message_bytes: int = 1_048_576  # larger mail is refused with 552
    max_recipients: int = 10  # RCPT TO per message
    sender_rate: int = 30  # messages per sender address per hour, before quotas (421 past it)


@dataclass
class PlanInfo:
    """How a plan is presented on /plans/ (`plans:` in site.yml); what it includes comes from
    `meter.plans`, `consult.plans` and the assistant's config."""

    title: str
    price: str = ""  # shown as written, e.g. "$19 / month"
    summary: str = ""
    stripe_price: str = ""  # Stripe price id (price_…) for Checkout; "" = not sold online


def default_plans() -> dict[str, PlanInfo]:
    return {
        "free": PlanInfo("Free", "$0", "For occasional lookups."),
        "paid": PlanInfo("Professional", "", "For coders who look codes up every day."),
    }


ASK_PERIODS = ("day", "month", "lifetime")


@dataclass
class AskPlan:
    """One plan's CasePilot allowance: `asks` questions per `per` ("day", "month", "lifetime",
    "rolling:N"); `asks` None = unlimited."""

    asks: int | None
    per: str = "month"


@dataclass
class Assistant:
    """CasePilot, the coding assistant (`assistant:` in site.yml)."""

    enabled: bool = True
    plans: dict[str, AskPlan] = field(default_factory=lambda: {
        "guest": AskPlan(2, "day"), "free": AskPlan(20, "month"), "paid": AskPlan(None, "month"),
    })
    rate_limit: int = 30  # questions per minute per client IP, whatever the plan (429 beyond)


@dataclass
class Jobs:
    """The job board (CareerCenter): listings from `content/jobs/`, posts through the gate."""

    enabled: bool = True  # build /jobs/, its feed and sitemap, and link "Jobs" in the header
    samples: bool = True  # publish the sample listings (front matter `sample: true`); false in production


@dataclass
class SiteConfig:
    """What `content/site.yml` holds. Paths are relative to the project root."""

    site_name: str = "coderef"
    tagline: str = "Every official medical code, one fast page each."
    base_url: str = "http://127.0.0.1:8000"
    codesets: list[str] = field(default_factory=lambda: list(CODESET_NAMES))
    protected: dict[str, bool] = field(default_factory=lambda: dict(DEFAULT_PROTECTED))
    meter: Meter = field(default_factory=Meter)
    consult: Consult = field(default_factory=Consult)
    plans: dict[str, PlanInfo] = field(default_factory=default_plans)
    contact: str = ""  # the operator's address, shown where people need a person (e.g. /plans/)
    jobs: Jobs = field(default_factory=Jobs)
    assistant: Assistant = field(default_factory=Assistant)
    theme: str = "default"
    output: str = "site"
    store: str = "var/protected.sqlite"
    data_dir: str = "data"
    sources: dict[str, str] = field(default_factory=dict)  # importer kind -> file, relative to root
    # NCCI/MUE kind -> the release date used as current among those held (default: the newest held).
    current_release: dict[str, str] = field(default_factory=dict)
    root: Path = field(default_factory=Path.cwd)
    path: str = "content/site.yml"

    def is_protected(self, kind: str, override: bool | None = None) -> bool:
        if override is not None:
            return override
        return self.protected.get(kind, True)

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def output_dir(self) -> Path:
        return self.root / self.output

    @property
    def store_path(self) -> Path:
        return self.root / self.store

    @property
    def data_path(self) -> Path:
        return self.root / self.data_dir

    @property
    def theme_dir(self) -> Path:
        return self.root / "themes" / self.theme

    @property
    def state_dir(self) -> Path:
        return self.root / ".coderef"


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _scalar(node: yaml.Node) -> Any:
    return yaml.safe_load(yaml.serialize(node))


def load_config(root: Path, problems: Problems) -> SiteConfig:
    """Reads `content/site.yml` below `root`; a missing file means all defaults."""
    cfg = SiteConfig(root=root)
    path = root / "content" / "site.yml"
    rel = cfg.path
    if not path.exists():
        return cfg
    try:
        doc = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark, started = exc.problem_mark, exc.context_mark
        line = mark.line + 1 if mark else 0
        where = ""
        if started is not None and started.line + 1 != line:
            where = f" ({exc.context} at line {started.line + 1})"
            line = started.line + 1
        problems.error(rel, line, f"invalid YAML: {exc.problem}{where}")
        return cfg
    if doc is None:
        return cfg
    if not isinstance(doc, yaml.MappingNode):
        problems.error(rel, _line(doc), "site.yml must be a mapping of settings (key: value)")
        return cfg
    for knode, vnode in doc.value:
        key = knode.value
        line = _line(knode)
        value = _scalar(vnode)
        if key in ("site_name", "tagline", "base_url", "theme", "output", "store", "data_dir"):
            if not isinstance(value, str) or not value.strip():
                problems.error(rel, line, f"'{key}' must be a non-empty string")
                continue
            setattr(cfg, key, value.strip())
        elif key == "codesets":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.error(
                    rel, line, "'codesets' must be a list such as [icd-10-cm, icd-10-pcs, cpt, hcpcs]"
                )
                continue
            unknown = [v for v in value if v not in CODESET_NAMES]
            if unknown:
                problems.error(
                    rel, line,
                    f"unknown code set {', '.join(unknown)}; known: {', '.join(CODESET_NAMES)}",
                )
                continue
            cfg.codesets = list(value)
        elif key == "protected":
            if not isinstance(value, dict) or not all(isinstance(v, bool) for v in value.values()):
                problems.error(rel, line, "'protected' must map section kinds to true or false")
                continue
            for kind in value:
                if kind not in DEFAULT_PROTECTED:
                    problems.warn(rel, line, f"'protected' names unknown section kind '{kind}'")
            cfg.protected.update(value)
        elif key == "sources":
            if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
                problems.error(
                    rel,
                    line,
                    "'sources' maps an importer kind to a file path, e.g. 'icd10cm: data/icd10cm.xml'",
                )
                continue
            for kind, src in value.items():
                if not (root / src).is_file():
                    problems.error(rel, line, f"'sources.{kind}': file '{src}' does not exist")
                else:
                    cfg.sources[str(kind)] = src
        elif key == "current_release":
            if isinstance(value, dict):  # YAML reads 2024-07-01 as a date
                value = {k: v.isoformat() if isinstance(v, date) else v for k, v in value.items()}
            if not isinstance(value, dict) or not all(
                isinstance(v, str) and _ISO_DATE.match(v) for v in value.values()
            ):
                problems.error(rel, line, "'current_release' maps an NCCI or MUE kind to the release date to "
                               "use, e.g. 'mue-practitioner: 2024-07-01'")
                continue
            for kind, when in value.items():
                if kind not in RELEASED_KINDS:
                    problems.warn(rel, line, f"'current_release' names '{kind}', which holds no releases "
                                  f"side by side; known: {', '.join(RELEASED_KINDS)}")
                else:
                    cfg.current_release[str(kind)] = when
        elif key == "meter":
            _load_meter(cfg.meter, vnode, rel, problems)
        elif key == "contact":
            if not isinstance(value, str) or value.count("@") != 1 or " " in value.strip():
                problems.error(rel, line, "'contact' must be an address such as help@example.org")
                continue
            cfg.contact = value.strip()
        elif key == "consult":
            _load_consult(cfg.consult, vnode, rel, problems)
        elif key == "plans":
            _load_plans(cfg, vnode, rel, problems)
        elif key == "jobs":
            _load_jobs(cfg.jobs, vnode, rel, problems)
        elif key == "assistant":
            _load_assistant(cfg.assistant, vnode, rel, problems)
        else:
            problems.warn(rel, line, f"unknown setting '{key}' is ignored")
    for name in [*cfg.plans, *cfg.consult.plans]:
        if name not in cfg.meter.plans or name == "guest":
            problems.error(rel, 1, f"plan '{name}' (in 'plans' or 'consult.plans') is not an account plan of"
                           f" 'meter.plans': {', '.join(p for p in cfg.meter.plans if p != 'guest')}")
    if cfg.base_url and not cfg.base_url.startswith(("http://", "https://")):
        problems.error(rel, 1, "'base_url' must start with http:// or https://")
    return cfg


def _settings(
    node: yaml.Node, what: str, example: str, rel: str, problems: Problems
) -> list[tuple[str, int, Any]]:
    """(key, line, value) of a nested mapping of settings; none (and an error) when it is not a mapping."""
    if not isinstance(node, yaml.MappingNode):
        problems.error(rel, _line(node), f"'{what}' must be a mapping, e.g. {example}")
        return []
    return [(knode.value, _line(knode), _scalar(vnode)) for knode, vnode in node.value]


def _load_meter(meter: Meter, node: yaml.Node, rel: str, problems: Problems) -> None:
    for key, line, value in _settings(node, "meter", "{period: month, auto_unlock: true}", rel, problems):
        if key == "auto_unlock":
            if not isinstance(value, bool):
                problems.error(rel, line, "'meter.auto_unlock' must be true or false")
            else:
                meter.auto_unlock = value
        elif key == "period":
            ok = isinstance(value, str) and (
                value in PERIODS
                or (value.startswith("rolling:") and value[8:].isdigit() and int(value[8:]) > 0)
            )
            if not ok:
                problems.error(rel, line, "'meter.period' must be lifetime, month or rolling:N (N days)")
            else:
                meter.period = value
        elif key == "plans":
            if not isinstance(value, dict) or not all(
                v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0)
                for v in value.values()
            ):
                problems.error(
                    rel, line, "'meter.plans' maps plan names to a count of code pages, or null for unlimited"
                )
                continue
            missing = {"guest", "free", "paid"} - set(value)
            if missing:
                problems.error(rel, line, f"'meter.plans' lacks {', '.join(sorted(missing))}")
                continue
            meter.plans = dict(value)
        elif key == "require_verified_email":
            if not isinstance(value, bool):
                problems.error(rel, line, "'meter.require_verified_email' must be true or false")
            else:
                meter.require_verified_email = value
        elif key == "guest_ip_cap":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problems.error(rel, line, "'meter.guest_ip_cap' must be a whole number of at least 1")
            else:
                meter.guest_ip_cap = value
        else:
            problems.warn(rel, line, f"unknown setting 'meter.{key}' is ignored")


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _load_consult(consult: Consult, node: yaml.Node, rel: str, problems: Problems) -> None:
    for key, line, value in _settings(node, "consult", "{address: ask@example.org, plans: {free: 1}}", rel,
                                      problems):
        if key == "address":
            if not isinstance(value, str) or value.count("@") != 1 or " " in value.strip():
                problems.error(rel, line, "'consult.address' must be an address such as ask@example.org")
            else:
                consult.address = value.strip().lower()
        elif key == "plans":
            if not isinstance(value, dict) or not all(v is None or _count(v) for v in value.values()):
                problems.error(rel, line, "'consult.plans' maps plan names to questions per period, or null")
            else:
                consult.plans = {str(k): v for k, v in value.items()}
        elif key == "period":
            ok = isinstance(value, str) and (
                value == "month"
                or (value.startswith("rolling:") and value[8:].isdigit() and int(value[8:]) > 0)
            )
            if not ok:
                problems.error(rel, line, "'consult.period' must be month or rolling:N (N days)")
            else:
                consult.period = value
        elif key in ("max_message_bytes", "max_recipients", "sender_rate"):
            if not _count(value) or value < 1:
                problems.error(rel, line, f"'consult.{key}' must be a whole number of at least 1")
            else:
                setattr(consult, key, value)
        else:
            problems.warn(rel, line, f"unknown setting 'consult.{key}' is ignored")


def _load_plans(cfg: SiteConfig, node: yaml.Node, rel: str, problems: Problems) -> None:
    if not isinstance(node, yaml.MappingNode):
        problems.error(rel, _line(node), "'plans' maps plan names to {title, price, summary, stripe_price}")
        return
    plans: dict[str, PlanInfo] = {}
    for knode, vnode in node.value:
        name, line, value = str(knode.value), _line(knode), _scalar(vnode)
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            problems.error(rel, line, f"'plans.{name}' must map title/price/summary/stripe_price to text")
            continue
        unknown = set(value) - {"title", "price", "summary", "stripe_price"}
        for k in sorted(unknown):
            problems.warn(rel, line, f"unknown setting 'plans.{name}.{k}' is ignored")
        price_id = value.get("stripe_price", "").strip()
        if price_id and not price_id.startswith("price_"):
            problems.error(rel, line, f"'plans.{name}.stripe_price' must be a Stripe price id (price_…)")
            continue
        plans[name] = PlanInfo(value.get("title", name.title()).strip(), value.get("price", "").strip(),
                               value.get("summary", "").strip(), price_id)
    guest = [n for n in plans if n == "guest"]
    if guest:
        problems.error(rel, _line(node), "'plans' lists account plans; guests are not a plan to present")
        return
    cfg.plans = plans


def _load_jobs(jobs: Jobs, node: yaml.Node, rel: str, problems: Problems) -> None:
    for key, line, value in _settings(node, "jobs", "{enabled: true, samples: false}", rel, problems):
        if key in ("enabled", "samples"):
            if not isinstance(value, bool):
                problems.error(rel, line, f"'jobs.{key}' must be true or false")
            else:
                setattr(jobs, key, value)
        else:
            problems.warn(rel, line, f"unknown setting 'jobs.{key}' is ignored")
def _ask_period_ok(value: object) -> bool:
    return isinstance(value, str) and (
        value in ASK_PERIODS or (value.startswith("rolling:") and value[8:].isdigit() and int(value[8:]) > 0)
    )


def _load_assistant(assistant: Assistant, node: yaml.Node, rel: str, problems: Problems) -> None:
    if not isinstance(node, yaml.MappingNode):
        problems.error(rel, _line(node), "'assistant' must be a mapping (enabled, plans, rate_limit)")
        return
    for knode, vnode in node.value:
        key, line, value = knode.value, _line(knode), _scalar(vnode)
        if key == "enabled":
            if not isinstance(value, bool):
                problems.error(rel, line, "'assistant.enabled' must be true or false")
            else:
                assistant.enabled = value
        elif key == "rate_limit":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problems.error(rel, line, ("'assistant.rate_limit' must be a whole number of questions per "
                                           "minute (1 or more)"))
            else:
                assistant.rate_limit = value
        elif key == "plans":
            plans = _ask_plans(value, rel, line, problems)
            if plans is not None:
                assistant.plans = plans
        else:
            problems.warn(rel, line, f"unknown setting 'assistant.{key}' is ignored")


def _ask_plans(value: object, rel: str, line: int, problems: Problems) -> dict[str, AskPlan] | None:
    hint = ("e.g. 'guest: {asks: 2, per: day}'; asks: a whole number or null (unlimited); per: day, month, "
            "lifetime or rolling:N")
    if not isinstance(value, dict):
        problems.error(rel, line, f"'assistant.plans' maps plan names to allowances, {hint}")
        return None
    plans: dict[str, AskPlan] = {}
    for name, spec in value.items():
        if not isinstance(spec, dict) or "asks" not in spec or set(spec) - {"asks", "per"}:
            problems.error(rel, line, (f"'assistant.plans.{name}' must be a mapping with 'asks' and 'per', "
                                       f"{hint}"))
            return None
        asks, per = spec["asks"], spec.get("per", "month")
        if not (asks is None or (isinstance(asks, int) and not isinstance(asks, bool) and asks >= 0)):
            problems.error(rel, line, f"'assistant.plans.{name}.asks' must be a whole number or null, {hint}")
            return None
        if not _ask_period_ok(per):
            problems.error(rel, line, (f"'assistant.plans.{name}.per' must be day, month, lifetime or "
                                       f"rolling:N"))
            return None
        plans[str(name)] = AskPlan(asks, str(per))
    missing = {"guest", "free", "paid"} - set(plans)
    if missing:
        problems.error(rel, line, f"'assistant.plans' lacks {', '.join(sorted(missing))}")
        return None
    return plans
