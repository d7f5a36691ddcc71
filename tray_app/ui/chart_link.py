"""Opening what `dental-bridge review` asks for (a study, or a patient from the chart: an Open
Dental Program Link, docs/program-link.md) in a review window, and the requests a second launch
forwards over the single-instance socket (single_instance.py)."""

from __future__ import annotations

NO_STUDY_TITLE = "No study of this patient"


def open_request(window, request: dict | None) -> str:
    """Opens the study or the patient's newest study `request` names; the reason (also shown in
    the status bar) when there is none, else ""."""
    request = request or {}
    study_id = request.get("study")
    if request.get("patient") is not None:
        match = window.api.find_patient(str(request["patient"]), request.get("id_kind"))
        if match.study_id is None:
            show_no_study(window, match.message)
            return match.message
        study_id = match.study_id
    if study_id is None:
        return ""
    window.open_study(int(study_id))
    if window.study is None or window.study["id"] != int(study_id):
        return window.status.currentMessage() or f"study {study_id} cannot be opened"
    return ""


def raise_window(window):
    if window.isMinimized():
        window.showNormal()
    window.show()
    window.raise_()
    window.activateWindow()
    return window


def follow_requests(guard, show) -> None:
    """A second launch's `show` calls show() (which raises the review window and returns it); its
    review request opens in that window."""
    guard.show_requested.connect(show)
    guard.review_requested.connect(lambda request: open_request(show(), request))


def show_no_study(window, message: str) -> None:
    """The chart asked for a patient with no study here: the window shows no one's images (never
    another patient's in front of this one) and says why; the queue stays to pick from."""
    window.study, window.image_id, window.findings = None, None, []
    window.header.title.setText(NO_STUDY_TITLE)
    window.header.subtitle.setText("Pick a study from the queue")
    window.header.set_signable(False, False)
    window.banner.clear()
    window.thumbs.clear()
    window.findings_panel.set_findings([])
    window.queue.select_study(-1, emit=False)  # highlights nothing
    window.canvas.show_message(message)
    window.status.showMessage(message)  # stays until the user does something else
