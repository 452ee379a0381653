"""Outreach: scoring with the champions, pathway selection (outreach/*.yaml) and per-practice
CSV / XLSX / HTML lists. See docs/outreach.md.

Public: scoring.score / score_matrix / store_scores, engine.select_lists (build_lists: the lists
only), lists.select / explain_lists / write_outreach, writers.write_practice_files,
store_io.contacts_reader / record_listed / load_history, header.list_header, audit.audit_lists.
"""
