"""Paths of the small official-layout CMS fixtures and a helper that imports them all."""
from __future__ import annotations

from pathlib import Path

from generator.config import SiteConfig

CMS = Path(__file__).resolve().parent / "fixtures" / "cms"

FILES = {
    "ncci-ptp-practitioner": "ccipra-v302r0-f1.txt",
    "ncci-ptp-hospital": "ccioph-v302r0-f1.csv",
    "mue-practitioner": "MCR_MUE_PractitionerServices_Eff_07-01-2024.csv",
    "mue-hospital": "MCR_MUE_OutpatientHospitalServices_Eff_07-01-2024.csv",
    "mue-dme": "MCR_MUE_DMESupplierServices_Eff_07-01-2024.csv",
    "ncci-aoc": "AOC_V2024Q3-MCR.txt",
    "pprrvu": "PPRRVU24_JUL.csv",
    "gpci": "GPCI2024.csv",
    "gem-cm-to-icd9": "2018_I10gem.txt",
    "gem-icd9-to-cm": "2018_I9gem.txt",
    "gem-pcs-to-icd9": "gem_pcsi9.txt",
    "gem-icd9-to-pcs": "gem_i9pcs.txt",
    "icd9-descriptions-dx": "CMS32_DESC_LONG_DX.txt",
    "icd9-descriptions-sg": "CMS32_DESC_LONG_SG.txt",
}


def import_all(cfg: SiteConfig, kinds: list[str] | None = None) -> None:
    from generator.premium import import_premium

    for kind, name in FILES.items():
        if kinds is None or kind in kinds:
            import_premium(cfg, kind, CMS / name)
