"""Image quality at capture time: what makes a radiograph non-diagnostic, found seconds after it
arrives, as retake advice a hygienist acts on before the patient leaves (issue 20 part 2).

`pixels.py` (exposure, cone cut, motion blur) and `teeth.py` (apices, contacts, orientation, from
the model's tooth boxes and the header) measure; `advice.py` turns measures and the `[quality]`
thresholds into sentences; `step.py` is the pipeline step that records them (store/quality.py)."""
