-- Prescriptions issued in the 90 days before the index date. A drug is its source drug code
-- where there is one, else its BNF code; a BNF section is the first 4 characters of the code.
WITH recent AS (
  SELECT
    i.row_id,
    COALESCE(p.drug_code, p.bnf_code) AS drug,
    CASE WHEN LENGTH(p.bnf_code) >= 4 THEN SUBSTRING(p.bnf_code, 1, 4) END AS bnf_section,
    p.bnf_code
  FROM index_rows AS i
  JOIN prescriptions AS p ON p.patient_id = i.patient_id
  WHERE p.issued_on < i.index_date
    AND p.issued_on >= CAST(i.index_date - INTERVAL '90' DAY AS DATE)
),
per_row AS (
  SELECT
    row_id,
    COUNT(DISTINCT drug) AS distinct_drugs_90d,
    COUNT(DISTINCT bnf_section) AS bnf_sections_90d,
    MAX(CASE WHEN bnf_code LIKE '0208%' THEN 1 ELSE 0 END) AS anticoagulant_90d,
    MAX(CASE WHEN bnf_code LIKE '040702%' THEN 1 ELSE 0 END) AS opioid_90d,
    MAX(CASE WHEN bnf_code LIKE '060101%' THEN 1 ELSE 0 END) AS insulin_90d,
    MAX(CASE WHEN bnf_code LIKE '020202%' THEN 1 ELSE 0 END) AS loop_diuretic_90d,
    MAX(CASE WHEN bnf_code LIKE '040201%' THEN 1 ELSE 0 END) AS antipsychotic_90d
  FROM recent
  GROUP BY row_id
)
SELECT
  i.row_id,
  COALESCE(r.distinct_drugs_90d, 0) AS distinct_drugs_90d,
  COALESCE(r.bnf_sections_90d, 0) AS bnf_sections_90d,
  COALESCE(r.anticoagulant_90d, 0) AS anticoagulant_90d,
  COALESCE(r.opioid_90d, 0) AS opioid_90d,
  COALESCE(r.insulin_90d, 0) AS insulin_90d,
  COALESCE(r.loop_diuretic_90d, 0) AS loop_diuretic_90d,
  COALESCE(r.antipsychotic_90d, 0) AS antipsychotic_90d
FROM index_rows AS i
LEFT JOIN per_row AS r ON r.row_id = i.row_id
