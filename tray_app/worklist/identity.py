"""Which patient id the worklist hands the imaging software: PatNum or chart number.

Images taken from a worklist entry come back to us carrying that id, through a watch folder or
the DICOM receiver, and there the watch folders' `patient_id` setting says what an id means
(`review/patient.id_kinds` reads it). So the worklist gives the id that setting names; it has no
setting of its own. Folders that disagree leave it unable to know: then it lists nothing and
says why, rather than hand out ids that would be read as another kind.
"""

from __future__ import annotations

from ..config import Config, SourceConfig
from ..review.patient import id_kinds
from ..store.worklist import Item

ID_NAMES = {"patnum": "PatNum", "chartnumber": "chart number"}
DISAGREE = ("the watch folders disagree on what a patient id is (PatNum in some, chart number in others, the DICOM "
            "receiver counting as chart number), so the worklist cannot know which one the imaging software "
            "expects: give every watch folder the same patient-id setting")


def id_kind(config: Config) -> tuple[str, str]:
    """(patnum | chartnumber, '') or ('', why the worklist cannot tell)."""
    kinds = id_kinds(config)
    if len(kinds) == 1:
        return kinds[0], ""
    if not config.sources and not config.dicom.enabled:
        return SourceConfig(path="").patient_id, ""  # nothing set up yet: the default meaning
    return "", DISAGREE


def patient_id(item: Item, kind: str) -> str:
    """The item's patient id of that kind ('' when the patient has none: no chart number)."""
    if kind == "patnum":
        return str(item.pat_num) if item.pat_num else ""
    if kind == "chartnumber":
        return item.chart_number.strip()
    return ""
