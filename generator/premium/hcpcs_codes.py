"""What CMS's one- and two-character HCPCS indicator codes mean, for the public facts of a page."""
from __future__ import annotations

GROUPS = {
    "A": "Transportation services, medical and surgical supplies, miscellaneous and experimental",
    "B": "Enteral and parenteral therapy",
    "C": "Outpatient prospective payment system (temporary hospital codes)",
    "E": "Durable medical equipment",
    "G": "Procedures and professional services (temporary)",
    "H": "Alcohol and drug abuse treatment services",
    "J": "Drugs administered other than oral method, chemotherapy drugs",
    "K": "Temporary codes for durable medical equipment MACs",
    "L": "Orthotic and prosthetic procedures and devices",
    "M": "Medical services and quality measures",
    "P": "Pathology and laboratory services",
    "Q": "Temporary codes",
    "R": "Diagnostic radiology services",
    "S": "Temporary national codes (non-Medicare)",
    "T": "National codes established for state Medicaid agencies",
    "U": "Coronavirus laboratory tests",
    "V": "Vision, hearing and speech-language pathology services",
}

COVERAGE = {
    "C": "Carrier judgment: coverage is decided by the Medicare contractor",
    "D": "Special coverage instructions apply",
    "I": "Not payable by Medicare",
    "M": "Non-covered by Medicare",
    "S": "Non-covered by Medicare statute",
}

ACTION = {
    "A": "Added",
    "B": "Change in both administrative data and long description",
    "C": "Change in long description",
    "D": "Discontinued",
    "F": "Change in administrative data",
    "N": "No maintenance for this code",
    "P": "Payment change",
    "R": "Re-activated",
    "S": "Change in short description",
    "T": "Miscellaneous change (BETOS, type of service)",
}

PRICING = {
    "00": "Not separately priced by Part B",
    "11": "Priced with national relative value units",
    "12": "Priced with national anesthesia base units",
    "13": "Priced by the Medicare contractor",
    "21": "Clinical laboratory fee schedule (national limitation amount)",
    "22": "Clinical laboratory, priced by the Medicare contractor",
    "31": "DMEPOS: frequently serviced items",
    "32": "DMEPOS: inexpensive and other routinely purchased items",
    "33": "DMEPOS: oxygen and oxygen equipment",
    "34": "DMEPOS: DME supplies",
    "35": "DMEPOS: surgical dressings",
    "36": "DMEPOS: capped rental items",
    "37": "DMEPOS: ostomy, tracheostomy and urological supplies",
    "38": "DMEPOS: orthotics, prosthetics, prosthetic devices and vision services",
    "39": "DMEPOS: parenteral and enteral nutrition",
    "40": "DMEPOS: lymphedema compression treatment items",
    "45": "DMEPOS: customized items",
    "46": "Priced by the Medicare contractor (not otherwise classified, individual consideration)",
    "51": "Drugs",
    "52": "Reasonable charge",
    "53": "Statute",
    "54": "Vaccinations",
    "55": "Splints and casts",
    "56": "Blood",
    "57": "Other items priced by the Medicare contractor",
    "99": "Value not established",
}

MULTIPLE_PRICING = {
    "9": "Not applicable: the code is not priced separately by Part B",
    "A": "Not applicable: the code is priced under one method only",
}

BETOS_FAMILY = {
    "M": "Evaluation and management",
    "P": "Procedures",
    "I": "Imaging",
    "T": "Tests",
    "D": "Durable medical equipment",
    "O": "Other",
    "Y": "Exceptions and unclassified",
    "Z": "Exceptions and unclassified",
}

BETOS = {
    "D1A": "Medical/surgical supplies", "D1B": "Hospital beds", "D1C": "Oxygen and supplies",
    "D1D": "Wheelchairs", "D1E": "Other DME", "D1F": "Prosthetic/orthotic devices",
    "D1G": "Drugs administered through DME", "O1A": "Ambulance", "O1B": "Chiropractic",
    "O1C": "Enteral and parenteral", "O1D": "Chemotherapy", "O1E": "Other drugs",
    "O1F": "Hearing and speech services", "O1G": "Immunizations/vaccinations",
    "M5D": "Specialist - other", "M5C": "Specialist - ophthalmology", "M1B": "Office visits - established",
    "T1H": "Lab tests - other (non-Medicare fee schedule)", "T1A": "Lab tests - routine venipuncture",
    "T2D": "Other tests - other", "P6C": "Minor procedures - other (Medicare fee schedule)",
    "Y1": "Other - Medicare fee schedule", "Y2": "Other - non-Medicare fee schedule",
    "Z1": "Local codes", "Z2": "Undefined codes",
}

TYPE_OF_SERVICE = {
    "0": "Whole blood", "1": "Medical care", "2": "Surgery", "3": "Consultation",
    "4": "Diagnostic radiology", "5": "Diagnostic laboratory", "6": "Therapeutic radiology",
    "7": "Anesthesia", "8": "Assistant at surgery", "9": "Other medical items or services",
    "A": "Used DME", "B": "High-risk screening mammography", "C": "Low-risk screening mammography",
    "D": "Ambulance", "E": "Enteral/parenteral nutrients and supplies", "F": "Ambulatory surgical center",
    "G": "Immunosuppressive drugs", "H": "Hospice", "J": "Diabetic shoes", "K": "Hearing items and services",
    "L": "ESRD supplies", "M": "Monthly capitation payment for dialysis", "N": "Kidney donor",
    "P": "Lump-sum purchase of DME, prosthetics and orthotics", "Q": "Vision items or services",
    "R": "Rental of DME", "S": "Surgical dressings or other medical supplies",
    "T": "Outpatient mental health treatment limitation", "U": "Occupational therapy",
    "V": "Pneumococcal or influenza vaccine", "W": "Physical therapy",
    "Y": "Second opinion on elective surgery", "Z": "Third opinion on elective surgery",
}


def explain(table: dict[str, str], value: str) -> str:
    """'D — Special coverage instructions apply'; an unknown value is shown as it is."""
    meaning = table.get(value)
    return f"{value} — {meaning}" if meaning else value


def betos(value: str) -> str:
    meaning = BETOS.get(value) or BETOS_FAMILY.get(value[:1], "")
    return f"{value} — {meaning}" if meaning else value


def terminated(ended: str, released: str) -> str:
    """The badge of a code or modifier whose termination date ("2021-12-31") lies before its file's
    release ("2024-07-01"; "" unknown): "Terminated 2021-12-31", else "". CMS keeps such codes in the
    file for claims with earlier dates of service."""
    return f"Terminated {ended}" if ended and (not released or ended < released) else ""
