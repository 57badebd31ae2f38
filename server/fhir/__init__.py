"""FHIR R4 as pure functions: instruments as Questionnaires, a patient's record as resources.

Nothing here reads the database, the request or the settings: services/fhir.py reads the rows
and hands them over with an ExportContext (vocabulary.py) saying where the project's own URLs
live and what the organization lets the export show.
"""
