"""Reports: server-side metrics over per-ticket facts and rollups (issue 19).

``schemas.ReportResult`` is the one shape every report answers with: the JSON API, the CSV
and PDF renderers, the asynchronous exports and the scheduled deliveries all read it.
"""
