"""A demo patient seen about a year ago and again today, so that a newcomer's demo shows what the
comparison with prior images finds. Each image is one of a generated prior/current pair with a
known change (`pairs.py`): bone that receded on a bitewing, a lesion that grew on a periapical.

The earlier study's files carry its date both in DICOM (StudyDate) and as their modification
time, which is what an imaging folder that keeps the practice's history looks like.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

from pydicom.uid import generate_uid

from . import writers
from .pairs import as_samples, make_pair

PATIENT = ("DEMO006", "Demo", "Farid", "19580311")
# (kind, pair seed, change): seeds whose change the bundled models report, with nothing else claimed,
# and whose exports clip little (a third of a bitewing clipped white would earn it retake advice)
PAIRS = [("bitewing", 318, "bone_receded"), ("periapical", 305, "lesion_grew")]
PRIOR_DAYS = 400


def write_history(folder: Path, today: dt.date | None = None) -> int:
    """Write the patient's earlier study (dated PRIOR_DAYS ago) and today's; the number of files."""
    chart, last, first, birth = PATIENT
    today = today or dt.date.today()
    then = today - dt.timedelta(days=PRIOR_DAYS)
    then_mtime = time.mktime(dt.datetime.combine(then, dt.time(10, 0)).timetuple())
    studies = [(generate_uid(entropy_srcs=["dental-bridge-demo", chart, str(d)]), d, mtime)
               for d, mtime in ((then, then_mtime), (today, None))]
    n = 0
    for seq, (kind, seed, change) in enumerate(PAIRS, start=1):
        for sample, (study_uid, date, mtime) in zip(as_samples(make_pair(kind, seed, change), seed), studies):
            final = folder / f"{chart}_{date:%Y%m%d}_{seq:02d}.dcm"
            tmp = folder / f"~{final.name}"   # an ignored name until complete, as imaging software writes
            writers.write_dicom(sample, tmp, patient_id=chart, patient_name=f"{last}^{first}", birth_date=birth,
                                study_uid=study_uid, instance_number=seq, study_date=f"{date:%Y%m%d}")
            if mtime is not None:
                os.utime(tmp, (mtime, mtime))
            os.replace(tmp, final)
            n += 1
    return n
