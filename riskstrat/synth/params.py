"""The generating process's parameters, declared once (docs/synthetic.md explains them).

Rates are per person-year unless named otherwise; log-hazard coefficients are additive on the
daily hazard's log scale. Values were tuned so the population lands near DESIGN section 8.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: (lower age, upper age exclusive, share) - England-like pyramid, as ages on the extract date
#: (people born during the period register at birth).
AGE_BANDS = (
    (0, 5, 0.055), (5, 18, 0.155), (18, 30, 0.155), (30, 45, 0.185), (45, 65, 0.235),
    (65, 75, 0.11), (75, 85, 0.075), (85, 101, 0.03),
)  # fmt: skip
SEX_SHARES = {"F": 0.505, "M": 0.494, "U": 0.001}
#: Recorded ethnicity (ONS 5 groups + Unknown), England-like.
ETHNICITY_SHARES = {
    "White": 0.77, "Asian": 0.095, "Black": 0.04, "Mixed": 0.03, "Other": 0.02, "Unknown": 0.045,
}  # fmt: skip
#: Practice deprivation centres spread over deciles; patients' LSOAs scatter around them.
LSOA_SIZE = 1_500
PRACTICE_SIZE_SD = 0.35  # log-normal spread of list sizes around N / P
CAPACITY_SHARE = (0.002, 0.003)  # weekly outreach capacity as a share of list size
PCN_SIZES = (3, 4, 5)
DATA_OPT_OUT = 0.05
LIVES_ALONE_UNRECORDED = 0.12

#: Registration: a share registers during the period, a share moves away (per year).
NEW_REGISTRATION_SHARE = 0.08
MOVE_AWAY_PER_YEAR = 0.035


@dataclass(frozen=True)
class Register:
    """A long-term condition: prevalence model, its effect on hazards, its medicines."""

    code: str
    prevalence: float  # target share of the denominator (whole list, or adults for 18+)
    min_age: int  # nobody younger is on the register
    age_slope: float  # log-odds per decade above 50
    deprivation: float  # log-odds, most vs least deprived
    frailty: float  # log-odds per SD of latent frailty
    incidence: float  # yearly new diagnoses as a share of current prevalence odds
    admission: float  # emergency-admission log-hazard
    death: float  # out-of-hospital death log-hazard
    adults_denominator: bool = False
    resolves: float = 0.0  # share of (prevalent) entries that have a resolved_on date


REGISTERS = (
    Register("HYP", 0.14, 18, 0.75, 0.25, 0.15, 0.05, 0.03, 0.0),
    Register("DEP", 0.13, 18, -0.05, 0.45, 0.15, 0.06, 0.09, 0.03, True, 0.12),
    Register("OB", 0.13, 18, 0.10, 0.45, 0.10, 0.05, 0.03, 0.0, True, 0.10),
    Register("DM", 0.075, 18, 0.45, 0.45, 0.20, 0.05, 0.18, 0.12),
    Register("AST", 0.065, 3, -0.05, 0.25, 0.10, 0.02, 0.15, 0.03, False, 0.05),
    Register("CKD", 0.04, 18, 1.10, 0.30, 0.30, 0.06, 0.24, 0.18, True),
    Register("CAN", 0.035, 18, 0.75, 0.05, 0.25, 0.08, 0.27, 0.54),
    Register("CHD", 0.03, 30, 0.85, 0.45, 0.25, 0.04, 0.21, 0.18),
    Register("AF", 0.02, 30, 1.05, 0.10, 0.25, 0.06, 0.18, 0.18),
    Register("COPD", 0.02, 35, 0.80, 0.90, 0.35, 0.05, 0.45, 0.3),
    Register("STIA", 0.02, 30, 0.95, 0.35, 0.25, 0.05, 0.18, 0.21),
    Register("HF", 0.01, 30, 1.15, 0.45, 0.40, 0.08, 0.51, 0.42),
    Register("MH", 0.01, 18, -0.10, 0.90, 0.20, 0.03, 0.27, 0.24),
    Register("EP", 0.008, 2, 0.00, 0.35, 0.15, 0.02, 0.27, 0.24),
    Register("DEM", 0.007, 50, 1.60, 0.20, 0.45, 0.25, 0.36, 0.54),
    Register("LD", 0.006, 2, -0.15, 0.40, 0.20, 0.0, 0.24, 0.24),
    Register("OST", 0.008, 45, 1.10, 0.10, 0.30, 0.06, 0.12, 0.06),
    Register("PAD", 0.006, 40, 1.00, 0.50, 0.30, 0.05, 0.21, 0.18),
    Register("RA", 0.008, 18, 0.40, 0.20, 0.15, 0.03, 0.12, 0.06),
    Register("PC", 0.005, 18, 1.20, 0.10, 0.80, 1.5, 0.42, 1.56),
)
#: Prevalence multipliers at the start: the diseased die faster, so these land near the reference
#: prevalence at the extract date rather than above it at the start.
PREVALENCE_BOOST = {"CKD": 1.3, "CHD": 1.25, "AF": 1.3, "COPD": 1.3, "STIA": 1.25, "HF": 1.45,
                    "DEM": 1.35}  # fmt: skip
REGISTER_INDEX = {r.code: i for i, r in enumerate(REGISTERS)}
#: Palliative care is driven by these conditions (extra log-odds).
PC_DRIVERS = {"CAN": 2.5, "HF": 1.0, "DEM": 1.0, "COPD": 0.8}

#: Latent frailty (unobserved): a standard normal plus an age term; it drifts up with age.
FRAILTY_AGE = 0.02  # per year above 50
FRAILTY_DRIFT = 0.04  # per year, times (age above 40) / 40
FRAILTY_JUMP = 0.30  # added by each emergency admission

#: Emergency admission: yearly rate by age (knots; log-linear in between), then log-hazard terms.
ADMISSION_AGE_KNOTS = (0, 1, 5, 15, 20, 30, 45, 60, 70, 80, 90, 110)
ADMISSION_AGE_RATE = (0.18, 0.07, 0.035, 0.03, 0.045, 0.045, 0.05, 0.06, 0.085, 0.13, 0.20, 0.26)
ADMISSION_SCALE = 1.45  # multiplies the whole hazard (tuning knob)
B_FRAILTY = 0.5
B_MALE = 0.06
B_DEPRIVATION = 0.60  # most vs least deprived decile
B_LIVES_ALONE = 0.15
B_CARE_HOME = 0.35
B_POLYPHARMACY = 0.035  # per repeat medicine
B_PRIOR = 0.12  # per prior emergency admission, up to PRIOR_CAP
PRIOR_CAP = 4
#: Latent emergency admissions before the period (not in the extract): Poisson mean multiplier.
PRIOR_PERIOD_YEARS = 1.0
#: Post-discharge bump, for up to 365 days after a discharge, with e = exp(-days since / tau):
#: yearly hazard = base x (1 + amp x e) + amp x BUMP_ADD x e. The additive part is common to
#: everyone discharged (it keeps even low-risk people's readmission risk up).
BUMP_TAU = 40.0
BUMP_AMP = {"emergency": 0.7, "transfer": 0.7, "elective": 0.8, "maternity": 0.2}
BUMP_ADD = 1.7
BUMP_HORIZON = 365

#: Out-of-hospital death: Gompertz in age, plus frailty and conditions.
DEATH_RATE_50 = 0.0012  # yearly at age 50 before other terms
DEATH_GOMPERTZ = 0.085  # per year of age
DEATH_CHILD = 0.0003
DEATH_FRAILTY = 0.4
DEATH_CARE_HOME = 0.8
#: In-hospital death at an emergency admission: logistic in age and frailty.
INHOSP_DEATH = (-5.8, 0.055, 0.45)  # intercept (age 50), per year above 50, per frailty unit

#: Length of stay (days): geometric-ish via log-normal; day cases are LOS 0.
LOS_EMERGENCY = (0.9, 0.035, 0.25, 0.9)  # log mean at age 50, per year, per frailty, sigma
LOS_ZERO_EMERGENCY = 0.22
LOS_ELECTIVE = (0.2, 0.01, 0.8)  # log mean, per year above 50, sigma (+ 55% day cases)
LOS_ZERO_ELECTIVE = 0.55
TRANSFER_SHARE = 0.02
OTHER_DESTINATION = 0.03

#: Elective admissions (yearly, by age) and maternity (women 18-45).
ELECTIVE_RATE_KNOTS = (0, 18, 40, 60, 75, 110)
ELECTIVE_RATE = (0.015, 0.02, 0.035, 0.07, 0.10, 0.08)
ELECTIVE_CONDITION = 0.12  # extra log-rate per condition
MATERNITY_RATE = 0.07  # women 18-45, per year

#: A&E: share of emergency admissions arriving via A&E; other attendances' rate model.
VIA_AE = 0.8
AE_RATE = 0.37  # yearly non-admitted attendances at average risk
AE_AGE = {0: 1.5, 5: 0.8, 18: 1.3, 30: 1.0, 65: 1.1, 80: 1.6}
AE_DISPOSALS = {"discharged": 0.82, "left": 0.06, "other": 0.12}
AE_DEATH_SHARE = 0.05  # out-of-hospital deaths recorded as an A&E attendance that died

#: GP contacts: yearly rate = base(age) x (1 + per condition) x frailty; modes; missed appts.
GP_BASE = {0: 2.0, 5: 1.2, 18: 2.0, 45: 2.8, 65: 4.0, 80: 5.5}
GP_PER_CONDITION = 0.30
GP_MODES = {"face_to_face": 0.56, "telephone": 0.35, "online": 0.06, "home_visit": 0.03}
GP_DNA = (-3.4, 0.8, 0.7)  # logit: intercept, most-deprived, mental illness (DEP/MH)

#: Repeat medicines: BNF code -> (chapter/section/paragraph name). Codes are BNF shaped: 6-digit
#: paragraph + sub-paragraph + a 2-character chemical (the chemical part is illustrative).
BNF = {
    "0208020V0": "oral anticoagulant (warfarin)", "0208020Z0": "oral anticoagulant (apixaban)",
    "0407020Q0": "opioid (morphine)", "0407020B0": "opioid (codeine)",
    "0601012V0": "insulin (glargine)", "0601022B0": "metformin",
    "0601021M0": "sulfonylurea (gliclazide)", "0202020L0": "loop diuretic (furosemide)",
    "0402010AB": "antipsychotic (olanzapine)", "0402010AD": "antipsychotic (quetiapine)",
    "0212000B0": "statin (atorvastatin)", "0205051R0": "ACE inhibitor (ramipril)",
    "0206020A0": "calcium channel blocker (amlodipine)", "0204000H0": "beta-blocker (bisoprolol)",
    "0301011R0": "salbutamol", "0302000C0": "inhaled corticosteroid",
    "0301020Q0": "tiotropium", "0403030Q0": "SSRI (sertraline)",
    "0408010AH": "antiepileptic (levetiracetam)", "0411000D0": "donepezil",
    "0103050P0": "proton pump inhibitor (omeprazole)", "0209000A0": "antiplatelet (aspirin)",
    "0209000C0": "antiplatelet (clopidogrel)", "0606020A0": "bisphosphonate (alendronic acid)",
    "1001030U0": "DMARD (methotrexate)", "0803041S0": "tamoxifen",
    "0407010H0": "paracetamol", "0501013B0": "amoxicillin", "0602010V0": "levothyroxine",
    "1001010J0": "NSAID (ibuprofen)", "0906040G0": "colecalciferol",
    "0202010B0": "thiazide (bendroflumethiazide)",
}  # fmt: skip
BNF_CODES = tuple(BNF)
#: Register -> ((bnf code, probability of being on it),...). Age >= 65 adds GENERAL_65.
REGISTER_MEDS = {
    "HYP": (("0205051R0", 0.5), ("0206020A0", 0.45), ("0202010B0", 0.15)),
    "DEP": (("0403030Q0", 0.55),),
    "DM": (("0601022B0", 0.75), ("0601021M0", 0.2), ("0601012V0", 0.15), ("0212000B0", 0.6)),
    "AST": (("0301011R0", 0.8), ("0302000C0", 0.6)),
    "CKD": (("0205051R0", 0.3),),
    "CAN": (("0803041S0", 0.15), ("0407020Q0", 0.15)),
    "CHD": (("0212000B0", 0.8), ("0209000A0", 0.6), ("0204000H0", 0.5)),
    "AF": (("0208020Z0", 0.6), ("0208020V0", 0.2), ("0204000H0", 0.5)),
    "COPD": (("0301011R0", 0.9), ("0301020Q0", 0.6), ("0302000C0", 0.4)),
    "STIA": (("0209000C0", 0.7), ("0212000B0", 0.8)),
    "HF": (("0202020L0", 0.85), ("0204000H0", 0.6), ("0205051R0", 0.6)),
    "MH": (("0402010AB", 0.45), ("0402010AD", 0.35)),
    "EP": (("0408010AH", 0.9),),
    "DEM": (("0411000D0", 0.5), ("0402010AD", 0.1)),
    "OST": (("0606020A0", 0.6), ("0906040G0", 0.5)),
    "PAD": (("0209000C0", 0.5), ("0212000B0", 0.6)),
    "RA": (("1001030U0", 0.6), ("1001010J0", 0.3)),
    "PC": (("0407020Q0", 0.6),),
}
GENERAL_65 = (("0103050P0", 0.25), ("0407010H0", 0.15), ("0602010V0", 0.08), ("0407020B0", 0.05))
REPEAT_INTERVAL = (28, 56)  # days between issues of a repeat item
ACUTE_RATE = 0.35  # yearly acute items (antibiotics, analgesics, NSAIDs)
ACUTE_CODES = ("0501013B0", "0407010H0", "1001010J0")

#: Observations: (code, who, yearly rate) - values drawn in riskstrat.synth.activity.
OBSERVATION_RATES = {"hba1c": 2.0, "egfr": 1.5, "sbp": 1.0, "bmi": 0.35, "efi_score": 1.0}

#: Emergency primary diagnoses: code -> (base weight, {register: extra weight}, frail/old weight).
DIAGNOSES = {
    "I50": (0.2, {"HF": 6.0}, 0.0),
    "J44": (0.2, {"COPD": 6.0}, 0.0),
    "J18": (3.0, {"COPD": 2.0, "DEM": 1.5}, 2.0),
    "N39": (2.0, {"DEM": 1.5, "DM": 0.5}, 1.5),
    "S72": (0.3, {"OST": 2.0, "DEM": 1.0}, 2.0),
    "R55": (2.0, {"AF": 1.0}, 1.0),
    "R07": (3.0, {"CHD": 3.0}, 0.0),
    "I21": (0.5, {"CHD": 2.5, "DM": 0.5}, 0.3),
    "I48": (0.3, {"AF": 3.0}, 0.3),
    "I63": (0.3, {"STIA": 2.0, "AF": 1.0}, 0.5),
    "E11": (0.1, {"DM": 2.0}, 0.0),
    "J45": (0.5, {"AST": 3.0}, 0.0),
    "N17": (0.3, {"CKD": 3.0}, 0.8),
    "F03": (0.05, {"DEM": 2.0}, 0.0),
    "G40": (0.2, {"EP": 4.0}, 0.0),
    "F20": (0.05, {"MH": 3.0}, 0.0),
    "C34": (0.05, {"CAN": 3.0}, 0.0),
    "R10": (4.0, {}, 0.0),
    "K59": (1.0, {"PC": 1.0}, 0.5),
    "A09": (2.0, {}, 0.0),
    "T39": (0.5, {"DEP": 1.5, "MH": 1.0}, 0.0),
}
ELECTIVE_DIAGNOSES = ("Z51", "M17", "H25", "K80", "N40", "C50", "M16", "K40")
MATERNITY_DIAGNOSES = ("O80", "O82", "O34", "O70")

SECONDS_PER_DAY = 86_400


def age_lut(
    knots: tuple[float, ...], rates: tuple[float, ...], *, max_age: int = 130
) -> np.ndarray:
    """Log yearly rate by whole year of age (log-linear between knots)."""
    ages = np.arange(max_age + 1, dtype=np.float64)
    return np.interp(ages, knots, np.log(rates))


#: A world that changes (docs/synthetic.md "A world that changes"). Emergency admissions in
#: England peak in winter: NHS England's monthly A&E / emergency admission statistics show
#: January about 10-15 % above August; amplitude 0.055 of a yearly cosine peaking on 15 January
#: gives January / August = 1.12 (measured in the realism table).
SEASON_AMPLITUDE = 0.055
SEASON_PEAK_DAY = 14  # days since 1970-01-01 of a 15 January (the cosine's phase)
DAYS_PER_YEAR = 365.2425
#: Secular trend of the emergency-admission hazard per year, centred on the middle of the period
#: (so the period's mean level, hence the tuned volumes, do not move).
TREND_PER_YEAR = 0.015


@dataclass(frozen=True)
class World:
    """What changes in calendar time; one per generated population (stored in truth/meta.json).

    ward_from: a day (days since 1970) from which a new virtual ward removes ward_effect of the
    post-discharge bump of every discharge on or after it (a known drop in readmissions);
    coding_gap: (register, practice index, share of its entries the practice records)."""

    season_amplitude: float = SEASON_AMPLITUDE
    trend_per_year: float = TREND_PER_YEAR
    ward_from: int | None = None
    ward_effect: float = 0.0
    coding_gap: tuple[str, int, float] | None = ("CKD", 0, 0.5)
