"""Outreach: scoring with the champions, pathway selection (outreach/*.yaml) and per-practice
CSV / XLSX / HTML lists. See docs/outreach.md.

Public: scoring.score / score_matrix / store_scores, engine.build_lists, lists.select /
explain_lists / write_outreach, writers.write_practice_files, store_io.contacts_reader.
"""
