-- The index spell of a readmission index row, as known at its discharge (index_date =
-- discharge_date), and the LACE index: L length of stay, A acuity, C comorbidity (Charlson-style,
-- from registers active at index and primary diagnoses of spells discharged by then),
-- E A&E visits in the 6 months (182 days) before the admission. A transfer leg (admission method
-- transfer) belongs to a chain of spells linked by a discharge to another hospital on the day the
-- next leg starts (transfer_link.sql; the stay's spells: index_stay.sql): LACE's L, A and E (and
-- HOSPITAL's urgency and length of stay) are the stay's, from the admission and method of its
-- first leg (all legs are discharged by the index date).
WITH RECURSIVE transfer_link AS (
  -- include: transfer_link.sql
),
index_stay AS (
  -- include: index_stay.sql
),
spell AS (
  SELECT
    i.row_id,
    i.patient_id,
    i.index_date,
    i.index_spell_id,
    s.admission_date,
    -- a discharge after the index date is not known at index (the spell is still open)
    CASE WHEN s.discharge_date <= i.index_date THEN s.discharge_date END AS discharge_date,
    CASE WHEN s.discharge_date <= i.index_date THEN s.discharge_destination END
      AS discharge_destination,
    s.admission_method,
    CASE WHEN s.discharge_date <= i.index_date THEN SUBSTRING(s.primary_diagnosis, 1, 3) END
      AS dx3
  FROM index_rows AS i
  LEFT JOIN spells AS s ON s.spell_id = i.index_spell_id AND s.patient_id = i.patient_id
),
chain_start AS (
  -- the stay's first spell: the deepest of index_stay (the index spell itself when no link)
  SELECT
    row_id,
    ARG_MAX(admission_date, depth) AS start_date,
    ARG_MAX(admission_method, depth) AS start_method
  FROM index_stay
  GROUP BY row_id
),
registers AS (
  SELECT
    i.row_id,
    MAX(CASE WHEN c.register = 'CHD' THEN 1 ELSE 0 END) AS mi,
    MAX(CASE WHEN c.register = 'HF' THEN 1 ELSE 0 END) AS chf,
    MAX(CASE WHEN c.register = 'PAD' THEN 1 ELSE 0 END) AS pvd,
    MAX(CASE WHEN c.register = 'STIA' THEN 1 ELSE 0 END) AS cvd,
    MAX(CASE WHEN c.register = 'DEM' THEN 1 ELSE 0 END) AS dementia,
    MAX(CASE WHEN c.register IN ('COPD', 'AST') THEN 1 ELSE 0 END) AS cpd,
    MAX(CASE WHEN c.register = 'RA' THEN 1 ELSE 0 END) AS rheum,
    MAX(CASE WHEN c.register = 'DM' THEN 1 ELSE 0 END) AS diabetes,
    MAX(CASE WHEN c.register = 'CKD' THEN 1 ELSE 0 END) AS renal,
    MAX(CASE WHEN c.register = 'CAN' THEN 1 ELSE 0 END) AS cancer
  FROM index_rows AS i
  JOIN conditions AS c ON c.patient_id = i.patient_id
  WHERE c.diagnosed_on < i.index_date
    AND (c.resolved_on IS NULL OR c.resolved_on >= i.index_date)
  GROUP BY i.row_id
),
coded AS (
  -- primary diagnoses known at index: spells discharged before it, and the index spell itself
  SELECT
    i.row_id,
    SUBSTRING(s.primary_diagnosis, 1, 3) AS dx3
  FROM index_rows AS i
  JOIN spells AS s ON s.patient_id = i.patient_id
  WHERE s.admission_date < i.index_date
    AND (s.discharge_date < i.index_date
      OR (s.spell_id = i.index_spell_id AND s.discharge_date <= i.index_date))
),
diagnoses AS (
  SELECT
    row_id,
    MAX(CASE WHEN dx3 IN ('I21', 'I22', 'I25') THEN 1 ELSE 0 END) AS mi,
    MAX(CASE WHEN dx3 IN ('I11', 'I13', 'I50') THEN 1 ELSE 0 END) AS chf,
    MAX(CASE WHEN dx3 IN ('I70', 'I71', 'I73') THEN 1 ELSE 0 END) AS pvd,
    MAX(CASE WHEN dx3 BETWEEN 'I60' AND 'I69' OR dx3 = 'G45' THEN 1 ELSE 0 END) AS cvd,
    MAX(CASE WHEN dx3 BETWEEN 'F00' AND 'F03' OR dx3 = 'G30' THEN 1 ELSE 0 END) AS dementia,
    MAX(CASE WHEN dx3 BETWEEN 'J40' AND 'J47' THEN 1 ELSE 0 END) AS cpd,
    MAX(CASE WHEN dx3 IN ('M05', 'M06', 'M32', 'M33', 'M34') THEN 1 ELSE 0 END) AS rheum,
    MAX(CASE WHEN dx3 BETWEEN 'K25' AND 'K28' THEN 1 ELSE 0 END) AS ulcer,
    MAX(CASE WHEN dx3 IN ('K70', 'K73', 'K74') THEN 1 ELSE 0 END) AS mild_liver,
    MAX(CASE WHEN dx3 BETWEEN 'E10' AND 'E14' THEN 1 ELSE 0 END) AS diabetes,
    MAX(CASE WHEN dx3 BETWEEN 'G81' AND 'G83' THEN 1 ELSE 0 END) AS hemiplegia,
    MAX(CASE WHEN dx3 IN ('N18', 'N19') THEN 1 ELSE 0 END) AS renal,
    MAX(CASE WHEN dx3 BETWEEN 'C00' AND 'C76' OR dx3 BETWEEN 'C81' AND 'C97' THEN 1 ELSE 0 END)
      AS cancer,
    MAX(CASE WHEN dx3 IN ('K72', 'I85') THEN 1 ELSE 0 END) AS severe_liver,
    MAX(CASE WHEN dx3 BETWEEN 'C77' AND 'C80' THEN 1 ELSE 0 END) AS metastatic,
    MAX(CASE WHEN dx3 BETWEEN 'B20' AND 'B24' THEN 1 ELSE 0 END) AS hiv
  FROM coded
  GROUP BY row_id
),
charlson AS (
  SELECT
    i.row_id,
    GREATEST(COALESCE(r.mi, 0), COALESCE(d.mi, 0))
      + GREATEST(COALESCE(r.chf, 0), COALESCE(d.chf, 0))
      + GREATEST(COALESCE(r.pvd, 0), COALESCE(d.pvd, 0))
      + GREATEST(COALESCE(r.cvd, 0), COALESCE(d.cvd, 0))
      + GREATEST(COALESCE(r.dementia, 0), COALESCE(d.dementia, 0))
      + GREATEST(COALESCE(r.cpd, 0), COALESCE(d.cpd, 0))
      + GREATEST(COALESCE(r.rheum, 0), COALESCE(d.rheum, 0))
      + COALESCE(d.ulcer, 0)
      + GREATEST(COALESCE(d.mild_liver, 0), 3 * COALESCE(d.severe_liver, 0))
      + GREATEST(COALESCE(r.diabetes, 0), COALESCE(d.diabetes, 0))
      + 2 * COALESCE(d.hemiplegia, 0)
      + 2 * GREATEST(COALESCE(r.renal, 0), COALESCE(d.renal, 0))
      + GREATEST(2 * GREATEST(COALESCE(r.cancer, 0), COALESCE(d.cancer, 0)),
                 6 * COALESCE(d.metastatic, 0))
      + 6 * COALESCE(d.hiv, 0) AS charlson_index
  FROM index_rows AS i
  LEFT JOIN registers AS r ON r.row_id = i.row_id
  LEFT JOIN diagnoses AS d ON d.row_id = i.row_id
),
ae AS (
  -- before the stay's admission (a transfer leg's: its chain's first leg), not before the leg
  SELECT
    sp.row_id,
    COUNT(*) AS visits
  FROM spell AS sp
  LEFT JOIN chain_start AS ch ON ch.row_id = sp.row_id
  JOIN ae_attendances AS a ON a.patient_id = sp.patient_id
  WHERE CAST(a.arrival_at AS DATE) < COALESCE(ch.start_date, sp.admission_date)
    AND CAST(a.arrival_at AS DATE)
      >= CAST(COALESCE(ch.start_date, sp.admission_date) - INTERVAL '182' DAY AS DATE)
    AND CAST(a.arrival_at AS DATE) < sp.index_date
  GROUP BY sp.row_id
),
parts AS (
  SELECT
    sp.row_id,
    sp.admission_method,
    sp.discharge_destination,
    sp.dx3,
    date_diff('day', sp.admission_date, sp.discharge_date) AS los_days,
    date_diff('day', COALESCE(ch.start_date, sp.admission_date), sp.discharge_date)
      AS chain_los_days,
    CASE WHEN COALESCE(ch.start_method, sp.admission_method) = 'emergency' THEN 3 ELSE 0 END
      AS lace_a,
    c.charlson_index,
    LEAST(COALESCE(ae.visits, 0), 4) AS lace_e
  FROM spell AS sp
  JOIN charlson AS c ON c.row_id = sp.row_id
  LEFT JOIN chain_start AS ch ON ch.row_id = sp.row_id
  LEFT JOIN ae ON ae.row_id = sp.row_id
),
scored AS (
  SELECT
    *,
    CASE
      WHEN chain_los_days IS NULL THEN NULL
      WHEN chain_los_days < 1 THEN 0
      WHEN chain_los_days <= 3 THEN chain_los_days
      WHEN chain_los_days <= 6 THEN 4
      WHEN chain_los_days <= 13 THEN 5
      ELSE 7
    END AS lace_l,
    CASE WHEN charlson_index >= 4 THEN 5 ELSE charlson_index END AS lace_c
  FROM parts
)
SELECT
  row_id,
  los_days,
  chain_los_days,
  admission_method AS index_admission_method,
  CASE
    WHEN dx3 <= 'B99' THEN 'infectious'
    WHEN dx3 <= 'D48' THEN 'neoplasms'
    WHEN dx3 <= 'D89' THEN 'blood'
    WHEN dx3 <= 'E90' THEN 'endocrine'
    WHEN dx3 <= 'F99' THEN 'mental'
    WHEN dx3 <= 'G99' THEN 'nervous'
    WHEN dx3 <= 'H59' THEN 'eye'
    WHEN dx3 <= 'H95' THEN 'ear'
    WHEN dx3 <= 'I99' THEN 'circulatory'
    WHEN dx3 <= 'J99' THEN 'respiratory'
    WHEN dx3 <= 'K93' THEN 'digestive'
    WHEN dx3 <= 'L99' THEN 'skin'
    WHEN dx3 <= 'M99' THEN 'musculoskeletal'
    WHEN dx3 <= 'N99' THEN 'genitourinary'
    WHEN dx3 <= 'O99' THEN 'pregnancy'
    WHEN dx3 <= 'P96' THEN 'perinatal'
    WHEN dx3 <= 'Q99' THEN 'congenital'
    WHEN dx3 <= 'R99' THEN 'symptoms'
    WHEN dx3 <= 'T98' THEN 'injury'
    WHEN dx3 LIKE 'U%' THEN 'special'
    WHEN dx3 <= 'Y98' THEN 'external'
    WHEN dx3 LIKE 'Z%' THEN 'health_services'
  END AS index_icd10_chapter,
  discharge_destination AS index_discharge_destination,
  lace_l,
  lace_a,
  lace_c,
  lace_e,
  charlson_index,
  lace_l + lace_a + lace_c + lace_e AS lace_total
FROM scored
