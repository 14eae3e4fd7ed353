"""Vendor performance: SLA attainment, availability, standardized compensation and the monthly report (#13).

* :mod:`.compute`: the pure computation (no Django): attainment, availability inside service hours, credits.
* :mod:`.models`: versioned service levels, outages, exclusions, statements with disputes, stored reports.
* :mod:`.services`: gathers the inputs from the sibling apps' services and runs the computation.
* :mod:`.report`: the monthly service report (PDF with server-side SVG charts from :mod:`.charts`, and Excel).
* :mod:`.access`: the app's rows of the matrix.
"""
