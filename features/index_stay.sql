-- The spells of a readmission index row's hospital stay (not a feature group: included, as the
-- recursive CTE `index_stay` after the CTE `transfer_link`, by the groups that need "this stay").
-- The index spell (depth 0), then back through the legs it continues (transfer_link.sql) to the
-- stay's first spell, the one with the greatest depth: LACE and HOSPITAL take the stay's
-- admission from it (index_spell.sql), and the groups that count spells before this stay
-- (hospital_use.sql, history.sql) leave out every spell listed here, not only the index spell.
-- A step reads only a spell admitted before the index date. Crisis rows (no index spell): none.
SELECT
  i.row_id,
  i.index_date,
  i.index_spell_id,
  s.patient_id,
  s.spell_id,
  s.admission_date,
  s.admission_method,
  0 AS depth
FROM index_rows AS i
JOIN spells AS s ON s.spell_id = i.index_spell_id AND s.patient_id = i.patient_id
UNION ALL
SELECT
  c.row_id,
  c.index_date,
  c.index_spell_id,
  p.patient_id,
  p.spell_id,
  p.admission_date,
  p.admission_method,
  c.depth + 1
FROM index_stay AS c
JOIN transfer_link AS t ON t.leg_spell_id = c.spell_id AND t.patient_id = c.patient_id
JOIN spells AS p
  ON p.spell_id = t.prev_spell_id
  AND p.patient_id = c.patient_id
  AND p.admission_date < c.index_date
  AND p.spell_id <> c.index_spell_id
WHERE c.depth < 10
