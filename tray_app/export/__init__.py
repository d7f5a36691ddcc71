"""Export of signed reports to practice-management systems (Open Dental's API, drop folders) and
back to a PACS/viewer (DICOM C-STORE).

`outbox.py` (durable exactly-once queue and worker), `opendental.py` (API client, patient
matching), `opendental_export.py` (what one signed study writes), `folder.py` (Dentrix drop
folder and Open Dental AtoZ convention), `dicom_results.py` (GSPS and Secondary Capture built
with highdicom), `dicom_export.py` (C-STORE to the PACS, pynetdicom), `render.py` (annotated images, PDF reports),
`settings.py` (`[export]` settings), `secrets.py` (API keys in the OS keyring),
`doctor.py` (set-up checks), `commands.py` (CLI).
"""
