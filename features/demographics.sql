-- Demographics at the index date. Patient attributes without a date (sex, ethnicity, IMD decile,
-- lives alone, care home) are taken as recorded in the extract.
WITH person AS (
  SELECT
    i.row_id,
    i.index_date,
    p.date_of_birth,
    p.sex,
    p.ethnicity,
    p.imd_decile,
    p.lives_alone,
    p.care_home
  FROM index_rows AS i
  LEFT JOIN patients AS p ON p.patient_id = i.patient_id
)
SELECT
  row_id,
  -- completed years: year difference, minus one before the birthday in the index year
  EXTRACT(YEAR FROM index_date) - EXTRACT(YEAR FROM date_of_birth)
    - CASE
        WHEN EXTRACT(MONTH FROM index_date) * 100 + EXTRACT(DAY FROM index_date)
          < EXTRACT(MONTH FROM date_of_birth) * 100 + EXTRACT(DAY FROM date_of_birth)
        THEN 1 ELSE 0
      END AS age,
  sex,
  ethnicity,
  imd_decile,
  CASE WHEN lives_alone THEN 1 WHEN NOT lives_alone THEN 0 END AS lives_alone,
  CASE WHEN care_home THEN 1 ELSE 0 END AS care_home
FROM person
