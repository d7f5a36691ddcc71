"""Export of signed reports to practice-management systems (Open Dental's API, drop folders) and
back to a PACS/viewer (DICOM C-STORE).

`outbox.py` (durable exactly-once queue and worker), `job.py` (what an exporter gets — a claimed
row with its typed report — and the errors it raises), `destinations.py` (name → exporter),
`opendental.py` (API client, patient matching), `opendental_export.py` (what one signed study
writes), `folder.py` (Dentrix drop folder and Open Dental AtoZ convention), `dicom_results/`
(GSPS and Secondary Capture built with highdicom), `dicom_export.py` (C-STORE to the PACS,
pynetdicom), `render.py` (annotated images), `pdf.py` (PDF reports),
`settings.py` (`[export]` settings), `secrets.py` (API keys in the OS keyring),
`doctor.py` (set-up checks), `commands.py` (CLI).
"""
