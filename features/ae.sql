-- Emergency department attendances arriving on a day before the index date.
WITH known AS (
  SELECT
    i.row_id,
    i.index_date,
    CAST(a.arrival_at AS DATE) AS arrival_date
  FROM index_rows AS i
  JOIN ae_attendances AS a ON a.patient_id = i.patient_id
  WHERE CAST(a.arrival_at AS DATE) < i.index_date
),
per_row AS (
  SELECT
    row_id,
    SUM(CASE WHEN arrival_date >= CAST(index_date - INTERVAL '90' DAY AS DATE) THEN 1 ELSE 0 END)
      AS ae_90d,
    SUM(CASE WHEN arrival_date >= CAST(index_date - INTERVAL '365' DAY AS DATE) THEN 1 ELSE 0 END)
      AS ae_365d,
    MAX(arrival_date) AS last_arrival
  FROM known
  GROUP BY row_id
)
SELECT
  i.row_id,
  COALESCE(r.ae_90d, 0) AS ae_90d,
  COALESCE(r.ae_365d, 0) AS ae_365d,
  date_diff('day', r.last_arrival, i.index_date) AS days_since_ae
FROM index_rows AS i
LEFT JOIN per_row AS r ON r.row_id = i.row_id
