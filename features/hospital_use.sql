-- Inpatient spells as known at the index date. A spell counts only if admitted before
-- index_date; its discharge is known only if before index_date (otherwise it is still open and
-- its bed days run up to the index). For readmission the index row's stay has its own group and
-- is excluded here: the index spell and, when it is a transfer leg, every earlier leg of its
-- chain (index_stay.sql), so "previous" admissions, discharges and nights are before this stay.
-- The last emergency admission's stay runs to the end of its transfer chain (transfer_link.sql):
-- its discharge is the last leg's, known only if before index_date.
WITH RECURSIVE transfer_link AS (
  -- include: transfer_link.sql
),
index_stay AS (
  -- include: index_stay.sql
),
win AS (
  SELECT
    row_id,
    patient_id,
    index_date,
    index_spell_id,
    CAST(index_date - INTERVAL '90' DAY AS DATE) AS d90,
    CAST(index_date - INTERVAL '365' DAY AS DATE) AS d365,
    CAST(index_date - INTERVAL '730' DAY AS DATE) AS d730
  FROM index_rows
),
known AS (
  SELECT
    w.row_id,
    w.patient_id,
    w.index_date,
    w.index_spell_id,
    w.d90,
    w.d365,
    w.d730,
    s.spell_id,
    s.admission_method,
    s.admission_date,
    CASE WHEN s.discharge_date < w.index_date THEN s.discharge_date END AS discharge_date
  FROM win AS w
  JOIN spells AS s ON s.patient_id = w.patient_id
  LEFT JOIN index_stay AS x ON x.row_id = w.row_id AND x.spell_id = s.spell_id
  WHERE s.admission_date < w.index_date
    AND x.spell_id IS NULL  -- not this stay (index_stay holds the index spell itself too)
),
stay AS (
  -- the part of each spell inside [window start, index): nights from admission to discharge
  SELECT
    *,
    COALESCE(discharge_date, index_date) AS stay_end
  FROM known
),
per_row AS (
  SELECT
    row_id,
    SUM(CASE WHEN admission_method = 'emergency' AND admission_date >= d90 THEN 1 ELSE 0 END)
      AS emerg_adm_90d,
    SUM(CASE WHEN admission_method = 'emergency' AND admission_date >= d365 THEN 1 ELSE 0 END)
      AS emerg_adm_365d,
    SUM(CASE WHEN admission_method = 'emergency' AND admission_date >= d730 THEN 1 ELSE 0 END)
      AS emerg_adm_730d,
    SUM(CASE WHEN admission_method = 'elective' AND admission_date >= d90 THEN 1 ELSE 0 END)
      AS elective_adm_90d,
    SUM(CASE WHEN admission_method = 'elective' AND admission_date >= d365 THEN 1 ELSE 0 END)
      AS elective_adm_365d,
    SUM(CASE WHEN admission_method = 'elective' AND admission_date >= d730 THEN 1 ELSE 0 END)
      AS elective_adm_730d,
    SUM(GREATEST(0, date_diff('day', GREATEST(admission_date, d90), stay_end))) AS bed_days_90d,
    SUM(GREATEST(0, date_diff('day', GREATEST(admission_date, d365), stay_end)))
      AS bed_days_365d,
    SUM(GREATEST(0, date_diff('day', GREATEST(admission_date, d730), stay_end)))
      AS bed_days_730d,
    MAX(CASE WHEN admission_method = 'emergency' THEN admission_date END) AS last_emergency,
    MAX(discharge_date) AS last_discharge,
    MAX(CASE WHEN discharge_date IS NULL THEN 1 ELSE 0 END) AS in_hospital
  FROM stay
  GROUP BY row_id
),
emergency_stay AS (
  -- the last emergency admission's spell, then each transfer leg that continues it (a leg counts
  -- when admitted before index, as every spell here; its discharge only when before index)
  SELECT k.row_id, k.patient_id, k.index_date, k.index_spell_id, k.spell_id, k.discharge_date,
    0 AS depth
  FROM known AS k
  JOIN per_row AS r ON r.row_id = k.row_id
  WHERE k.admission_method = 'emergency' AND k.admission_date = r.last_emergency
  UNION ALL
  SELECT e.row_id, e.patient_id, e.index_date, e.index_spell_id, leg.spell_id,
    CASE WHEN leg.discharge_date < e.index_date THEN leg.discharge_date END, e.depth + 1
  FROM emergency_stay AS e
  JOIN transfer_link AS t ON t.prev_spell_id = e.spell_id AND t.patient_id = e.patient_id
  JOIN spells AS leg
    ON leg.spell_id = t.leg_spell_id
    AND leg.admission_date < e.index_date
  LEFT JOIN index_stay AS x ON x.row_id = e.row_id AND x.spell_id = leg.spell_id
  WHERE e.depth < 10 AND x.spell_id IS NULL
),
emergency_end AS (
  -- the stay's discharge: its last leg's (legs follow each other), none while a leg is open
  SELECT
    row_id,
    CASE WHEN MAX(CASE WHEN discharge_date IS NULL THEN 1 ELSE 0 END) = 0
      THEN MAX(discharge_date) END AS discharge_date
  FROM emergency_stay
  GROUP BY row_id
)
SELECT
  i.row_id,
  COALESCE(r.emerg_adm_90d, 0) AS emerg_adm_90d,
  COALESCE(r.emerg_adm_365d, 0) AS emerg_adm_365d,
  COALESCE(r.emerg_adm_730d, 0) AS emerg_adm_730d,
  COALESCE(r.elective_adm_90d, 0) AS elective_adm_90d,
  COALESCE(r.elective_adm_365d, 0) AS elective_adm_365d,
  COALESCE(r.elective_adm_730d, 0) AS elective_adm_730d,
  COALESCE(r.bed_days_90d, 0) AS bed_days_90d,
  COALESCE(r.bed_days_365d, 0) AS bed_days_365d,
  COALESCE(r.bed_days_730d, 0) AS bed_days_730d,
  date_diff('day', r.last_emergency, i.index_date) AS days_since_emerg_adm,
  date_diff('day', r.last_discharge, i.index_date) AS days_since_discharge,
  date_diff('day', e.discharge_date, i.index_date) AS days_since_emerg_discharge,
  COALESCE(r.in_hospital, 0) AS in_hospital_at_index
FROM index_rows AS i
LEFT JOIN per_row AS r ON r.row_id = i.row_id
LEFT JOIN emergency_end AS e ON e.row_id = i.row_id
