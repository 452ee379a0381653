-- The latest recorded value of each observation before the index date. Never measured stays
-- NULL (missing), not 0. Ties on a day take the higher value so the result is deterministic:
-- MAX_BY picks the value of the greatest (observed_on, value) pair, in one pass with no sort.
WITH latest AS (
  SELECT
    i.row_id,
    o.code,
    MAX_BY(o.value, (o.observed_on, o.value)) AS value
  FROM index_rows AS i
  JOIN observations AS o ON o.patient_id = i.patient_id
  WHERE o.observed_on < i.index_date
    AND o.value IS NOT NULL
    AND o.code IN ('hba1c', 'egfr', 'bmi', 'efi_score')
  GROUP BY i.row_id, o.code
),
per_row AS (
  SELECT
    row_id,
    MAX(CASE WHEN code = 'hba1c' THEN value END) AS hba1c_latest,
    MAX(CASE WHEN code = 'egfr' THEN value END) AS egfr_latest,
    MAX(CASE WHEN code = 'bmi' THEN value END) AS bmi_latest,
    MAX(CASE WHEN code = 'efi_score' THEN value END) AS efi_latest
  FROM latest
  GROUP BY row_id
)
SELECT
  i.row_id,
  r.hba1c_latest,
  r.egfr_latest,
  r.bmi_latest,
  r.efi_latest
FROM index_rows AS i
LEFT JOIN per_row AS r ON r.row_id = i.row_id
