-- The whole recorded history before the index date (not just the last 1-2 years): everything
-- the extract holds about a person's past that a fixed window throws away. Every event dated
-- strictly before index_date; a discharge counts only if before index_date (an open spell has
-- no known length yet). For readmission the index row's stay has its own group and is excluded
-- here: the index spell and every earlier leg of its transfer chain (index_stay.sql).
-- A&E and GP rates are per year registered within the last 3 years (the window most extracts
-- hold): from the later of registration and index - 1,095 days, at least a quarter of a year.
-- (A table-wide "first date of the extract" would be another patient's event: not used.)
WITH RECURSIVE transfer_link AS (
  -- include: transfer_link.sql
),
index_stay AS (
  -- include: index_stay.sql
),
base AS (
  SELECT
    i.row_id,
    i.patient_id,
    i.index_date,
    i.index_spell_id,
    GREATEST(date_diff('day', p.registered_from, i.index_date), 0) / 365.25 AS history_years,
    GREATEST(
      p.registered_from, CAST(i.index_date - INTERVAL '1095' DAY AS DATE)
    ) AS rate_from
  FROM index_rows AS i
  JOIN patients AS p ON p.patient_id = i.patient_id
),
spell AS (
  SELECT
    b.row_id,
    COUNT(*) FILTER (WHERE s.admission_method = 'emergency') AS emerg_adm_all,
    AVG(date_diff('day', s.admission_date, s.discharge_date))
      FILTER (WHERE s.discharge_date < b.index_date) AS mean_los_all,
    ARG_MAX(s.admission_method, (s.discharge_date, s.admission_date, s.spell_id))
      FILTER (WHERE s.discharge_date < b.index_date) AS last_discharge_method
  FROM base AS b
  JOIN spells AS s ON s.patient_id = b.patient_id
  LEFT JOIN index_stay AS x ON x.row_id = b.row_id AND x.spell_id = s.spell_id
  WHERE s.admission_date < b.index_date
    AND x.spell_id IS NULL  -- not this stay (index_stay holds the index spell itself too)
  GROUP BY b.row_id
),
ae AS (
  SELECT b.row_id, COUNT(*) AS n
  FROM base AS b
  JOIN ae_attendances AS a ON a.patient_id = b.patient_id
  WHERE CAST(a.arrival_at AS DATE) < b.index_date
    AND CAST(a.arrival_at AS DATE) >= b.rate_from
  GROUP BY b.row_id
),
gp AS (
  SELECT b.row_id, COUNT(*) AS n
  FROM base AS b
  JOIN gp_contacts AS g ON g.patient_id = b.patient_id
  WHERE g.contact_date < b.index_date AND g.contact_date >= b.rate_from AND g.attended
  GROUP BY b.row_id
),
efi AS (
  SELECT b.row_id, AVG(o.value) AS efi_mean, COUNT(*) AS efi_count, MAX(o.value) AS efi_max
  FROM base AS b
  JOIN observations AS o ON o.patient_id = b.patient_id
  WHERE o.observed_on < b.index_date AND o.code = 'efi_score' AND o.value IS NOT NULL
  GROUP BY b.row_id
),
repeats AS (
  -- a repeat item: the same BNF code issued on at least two days in the 180 days before index
  SELECT row_id, COUNT(*) AS repeat_items_180d
  FROM (
    SELECT b.row_id, p.bnf_code
    FROM base AS b
    JOIN prescriptions AS p ON p.patient_id = b.patient_id
    WHERE p.issued_on < b.index_date
      AND p.issued_on >= CAST(b.index_date - INTERVAL '180' DAY AS DATE)
      AND p.bnf_code IS NOT NULL
    GROUP BY b.row_id, p.bnf_code
    -- issued on two or more distinct days: its first and last issue differ (no DISTINCT pass)
    HAVING MIN(p.issued_on) < MAX(p.issued_on)
  )
  GROUP BY row_id
),
registers AS (
  -- every register ever diagnosed before index, resolved or not (a resolution is a past fact)
  SELECT b.row_id, COUNT(DISTINCT c.register) AS registers_ever
  FROM base AS b
  JOIN conditions AS c ON c.patient_id = b.patient_id
  WHERE c.diagnosed_on < b.index_date
  GROUP BY b.row_id
)
SELECT
  b.row_id,
  COALESCE(s.emerg_adm_all, 0) AS emerg_adm_all,
  s.last_discharge_method,
  s.mean_los_all,
  COALESCE(r.repeat_items_180d, 0) AS repeat_items_180d,
  e.efi_mean,
  COALESCE(e.efi_count, 0) AS efi_count,
  e.efi_max,
  COALESCE(a.n, 0) / GREATEST(date_diff('day', b.rate_from, b.index_date) / 365.25, 0.25)
    AS ae_per_year_3y,
  COALESCE(g.n, 0) / GREATEST(date_diff('day', b.rate_from, b.index_date) / 365.25, 0.25)
    AS gp_per_year_3y,
  COALESCE(c.registers_ever, 0) AS registers_ever,
  b.history_years
FROM base AS b
LEFT JOIN spell AS s ON s.row_id = b.row_id
LEFT JOIN ae AS a ON a.row_id = b.row_id
LEFT JOIN gp AS g ON g.row_id = b.row_id
LEFT JOIN efi AS e ON e.row_id = b.row_id
LEFT JOIN repeats AS r ON r.row_id = b.row_id
LEFT JOIN registers AS c ON c.row_id = b.row_id
