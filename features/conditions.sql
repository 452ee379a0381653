-- Long-term condition registers active at the index date: diagnosed before it and not resolved
-- before it (resolved_on on or after index_date is unknown at index, so still active).
WITH active AS (
  SELECT
    i.row_id,
    c.register,
    MIN(c.diagnosed_on) AS first_diagnosed
  FROM index_rows AS i
  JOIN conditions AS c ON c.patient_id = i.patient_id
  WHERE c.diagnosed_on < i.index_date
    AND (c.resolved_on IS NULL OR c.resolved_on >= i.index_date)
  GROUP BY i.row_id, c.register
),
per_row AS (
  SELECT
    row_id,
    MAX(CASE WHEN register = 'AF' THEN 1 ELSE 0 END) AS reg_af,
    MAX(CASE WHEN register = 'AST' THEN 1 ELSE 0 END) AS reg_ast,
    MAX(CASE WHEN register = 'CAN' THEN 1 ELSE 0 END) AS reg_can,
    MAX(CASE WHEN register = 'CHD' THEN 1 ELSE 0 END) AS reg_chd,
    MAX(CASE WHEN register = 'CKD' THEN 1 ELSE 0 END) AS reg_ckd,
    MAX(CASE WHEN register = 'COPD' THEN 1 ELSE 0 END) AS reg_copd,
    MAX(CASE WHEN register = 'DEM' THEN 1 ELSE 0 END) AS reg_dem,
    MAX(CASE WHEN register = 'DEP' THEN 1 ELSE 0 END) AS reg_dep,
    MAX(CASE WHEN register = 'DM' THEN 1 ELSE 0 END) AS reg_dm,
    MAX(CASE WHEN register = 'EP' THEN 1 ELSE 0 END) AS reg_ep,
    MAX(CASE WHEN register = 'HF' THEN 1 ELSE 0 END) AS reg_hf,
    MAX(CASE WHEN register = 'HYP' THEN 1 ELSE 0 END) AS reg_hyp,
    MAX(CASE WHEN register = 'LD' THEN 1 ELSE 0 END) AS reg_ld,
    MAX(CASE WHEN register = 'MH' THEN 1 ELSE 0 END) AS reg_mh,
    MAX(CASE WHEN register = 'OB' THEN 1 ELSE 0 END) AS reg_ob,
    MAX(CASE WHEN register = 'OST' THEN 1 ELSE 0 END) AS reg_ost,
    MAX(CASE WHEN register = 'PAD' THEN 1 ELSE 0 END) AS reg_pad,
    MAX(CASE WHEN register = 'PC' THEN 1 ELSE 0 END) AS reg_pc,
    MAX(CASE WHEN register = 'RA' THEN 1 ELSE 0 END) AS reg_ra,
    MAX(CASE WHEN register = 'STIA' THEN 1 ELSE 0 END) AS reg_stia,
    -- palliative care is a care status, not a condition: not counted as an LTC
    SUM(CASE WHEN register <> 'PC' THEN 1 ELSE 0 END) AS ltc_count,
    MIN(CASE WHEN register = 'HF' THEN first_diagnosed END) AS hf_since,
    MIN(CASE WHEN register = 'COPD' THEN first_diagnosed END) AS copd_since,
    MIN(CASE WHEN register = 'DM' THEN first_diagnosed END) AS dm_since,
    MIN(CASE WHEN register = 'CKD' THEN first_diagnosed END) AS ckd_since,
    MIN(CASE WHEN register = 'DEM' THEN first_diagnosed END) AS dem_since,
    MIN(CASE WHEN register = 'CAN' THEN first_diagnosed END) AS can_since
  FROM active
  GROUP BY row_id
)
SELECT
  i.row_id,
  COALESCE(r.reg_af, 0) AS reg_af,
  COALESCE(r.reg_ast, 0) AS reg_ast,
  COALESCE(r.reg_can, 0) AS reg_can,
  COALESCE(r.reg_chd, 0) AS reg_chd,
  COALESCE(r.reg_ckd, 0) AS reg_ckd,
  COALESCE(r.reg_copd, 0) AS reg_copd,
  COALESCE(r.reg_dem, 0) AS reg_dem,
  COALESCE(r.reg_dep, 0) AS reg_dep,
  COALESCE(r.reg_dm, 0) AS reg_dm,
  COALESCE(r.reg_ep, 0) AS reg_ep,
  COALESCE(r.reg_hf, 0) AS reg_hf,
  COALESCE(r.reg_hyp, 0) AS reg_hyp,
  COALESCE(r.reg_ld, 0) AS reg_ld,
  COALESCE(r.reg_mh, 0) AS reg_mh,
  COALESCE(r.reg_ob, 0) AS reg_ob,
  COALESCE(r.reg_ost, 0) AS reg_ost,
  COALESCE(r.reg_pad, 0) AS reg_pad,
  COALESCE(r.reg_pc, 0) AS reg_pc,
  COALESCE(r.reg_ra, 0) AS reg_ra,
  COALESCE(r.reg_stia, 0) AS reg_stia,
  COALESCE(r.ltc_count, 0) AS ltc_count,
  COALESCE(r.reg_hf * r.reg_copd, 0) AS hf_with_copd,
  COALESCE(r.reg_hf * r.reg_ckd, 0) AS hf_with_ckd,
  COALESCE(r.reg_dm * r.reg_ckd, 0) AS dm_with_ckd,
  date_diff('day', r.hf_since, i.index_date) / 365.25 AS years_since_hf,
  date_diff('day', r.copd_since, i.index_date) / 365.25 AS years_since_copd,
  date_diff('day', r.dm_since, i.index_date) / 365.25 AS years_since_dm,
  date_diff('day', r.ckd_since, i.index_date) / 365.25 AS years_since_ckd,
  date_diff('day', r.dem_since, i.index_date) / 365.25 AS years_since_dem,
  date_diff('day', r.can_since, i.index_date) / 365.25 AS years_since_can
FROM index_rows AS i
LEFT JOIN per_row AS r ON r.row_id = i.row_id
