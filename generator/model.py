"""The one record type every importer yields, and the sections a page is made of."""
from __future__ import annotations

from dataclasses import dataclass, field

from .field_pickle import by_fields

# Code-set slugs used in URLs, config and the protected store.
ICD10CM = "icd-10-cm"
ICD10PCS = "icd-10-pcs"
HCPCS = "hcpcs"
CPT = "cpt"

CODESET_NAMES: dict[str, str] = {
    ICD10CM: "ICD-10-CM",
    ICD10PCS: "ICD-10-PCS",
    HCPCS: "HCPCS Level II",
    CPT: "CPT",
}

# Page kinds. "code" pages are the metered ones; the others are browse pages of the hierarchy.
CODE = "code"
BROWSE_KINDS = ("chapter", "section", "body-system", "root-operation", "group")


@by_fields
@dataclass(slots=True)
class Section:
    """One titled block of a page.

    `kind` is what the protection config is keyed on (e.g. "excludes1", "handwritten", "ncci-ptp");
    `protected` is None when the config decides and a bool when the source overrides it.
    `html` is final, escaped HTML; `text` is its plain-text form (for search of public sections).
    """

    id: str
    kind: str
    title: str
    html: str
    text: str = ""
    protected: bool | None = None


@by_fields
@dataclass(slots=True)
class CodeRecord:
    """A code (or browse node) of one code set, as any importer yields it.

    `key` is the code as officially printed and is used verbatim in URLs (`/<codeset>/<key>/`);
    browse nodes that have no official code (ICD-10-CM chapters) get a slug such as "chapter-19".
    `parent` is the parent's key in the same code set; the linker derives children and
    previous/next from `parent` and `order`.
    """

    codeset: str
    key: str
    title: str
    kind: str = CODE
    parent: str | None = None
    order: int = 0
    billable: bool | None = None
    label: str = ""  # how the code is shown when it differs from key ("Chapter 19")
    short_title: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)  # public key/value facts
    sections: list[Section] = field(default_factory=list)
    source: str = ""  # release line, e.g. "ICD-10-CM FY2026, CDC"
    origin: str = ""  # where it came from ("path:line" for hand-written pages)
    # What the current release did to it, shown as a badge on its page and in search results:
    # `change` is "new" or "revised" (generator/history), "terminated" (HCPCS) or ""; `change_label`
    # is the badge's text ("New in FY2026").
    change: str = ""
    change_label: str = ""

    @property
    def display(self) -> str:
        return self.label or self.key

    @property
    def is_code(self) -> bool:
        return self.kind == CODE
