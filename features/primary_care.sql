-- GP contacts and appointments dated before the index date, over the last 90 and 365 days.
WITH known AS (
  SELECT
    i.row_id,
    g.contact_date >= CAST(i.index_date - INTERVAL '90' DAY AS DATE) AS in_90d,
    g.mode,
    g.attended
  FROM index_rows AS i
  JOIN gp_contacts AS g ON g.patient_id = i.patient_id
  WHERE g.contact_date < i.index_date
    AND g.contact_date >= CAST(i.index_date - INTERVAL '365' DAY AS DATE)
),
per_row AS (
  SELECT
    row_id,
    SUM(CASE WHEN attended AND in_90d THEN 1 ELSE 0 END) AS gp_contacts_90d,
    SUM(CASE WHEN attended THEN 1 ELSE 0 END) AS gp_contacts_365d,
    SUM(CASE WHEN NOT attended AND in_90d THEN 1 ELSE 0 END) AS gp_missed_90d,
    SUM(CASE WHEN NOT attended THEN 1 ELSE 0 END) AS gp_missed_365d,
    SUM(CASE WHEN attended AND mode = 'home_visit' AND in_90d THEN 1 ELSE 0 END)
      AS home_visits_90d,
    SUM(CASE WHEN attended AND mode = 'home_visit' THEN 1 ELSE 0 END) AS home_visits_365d
  FROM known
  GROUP BY row_id
)
SELECT
  i.row_id,
  COALESCE(r.gp_contacts_90d, 0) AS gp_contacts_90d,
  COALESCE(r.gp_contacts_365d, 0) AS gp_contacts_365d,
  COALESCE(r.gp_missed_90d, 0) AS gp_missed_90d,
  COALESCE(r.gp_missed_365d, 0) AS gp_missed_365d,
  COALESCE(r.home_visits_90d, 0) AS home_visits_90d,
  COALESCE(r.home_visits_365d, 0) AS home_visits_365d
FROM index_rows AS i
LEFT JOIN per_row AS r ON r.row_id = i.row_id
