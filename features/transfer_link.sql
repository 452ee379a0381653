-- A transfer-chain link (not a feature group: included by the groups that walk transfer chains).
-- Spell `leg` continues spell `prev` of the same patient, one hospital stay for the patient, when
-- prev ended with a discharge to another hospital on the day leg began with admission method
-- transfer. A chain is its first spell and the legs reached through these links. The link reads
-- prev's discharge: a query keeps only legs admitted before its index date (then prev's discharge
-- is known there too).
SELECT
  prev.patient_id,
  prev.spell_id AS prev_spell_id,
  leg.spell_id AS leg_spell_id
FROM spells AS prev
JOIN spells AS leg
  ON leg.patient_id = prev.patient_id
  AND leg.admission_date = prev.discharge_date
WHERE prev.discharge_destination = 'other_hospital'
  AND leg.admission_method = 'transfer'
