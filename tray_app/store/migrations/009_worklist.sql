-- The DICOM worklist's copy of Open Dental's schedule (issue 19): the imaging appointments of the
-- window last read, one row per appointment and modality, so the worklist answers with Open
-- Dental down. Replaced whole at every successful read; `worklist_refresh` says when that was
-- and why the last attempt failed (the tray and `doctor` show how old the copy is).
CREATE TABLE worklist_items (
    apt_num INTEGER NOT NULL,
    modality TEXT NOT NULL,            -- IO | PX | DX | CT
    pat_num INTEGER NOT NULL,
    chart_number TEXT NOT NULL DEFAULT '',
    patient_name TEXT NOT NULL DEFAULT '',  -- DICOM PN: Last^First^Middle
    birth_date TEXT NOT NULL DEFAULT '',    -- YYYYMMDD or ''
    sex TEXT NOT NULL DEFAULT '',           -- M | F | O | ''
    start TEXT NOT NULL,                    -- local 'YYYY-MM-DD HH:MM:SS' (Open Dental's AptDateTime)
    procedures TEXT NOT NULL,               -- JSON [[code, description], ...]
    provider TEXT NOT NULL DEFAULT '',      -- DICOM PN of the appointment's provider
    PRIMARY KEY (apt_num, modality)
);
CREATE INDEX worklist_items_start ON worklist_items(start);

CREATE TABLE worklist_refresh (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    refreshed_at TEXT,          -- UTC ISO time of the last successful read
    first_day TEXT,             -- the window it covered, local yyyy-MM-dd
    last_day TEXT,
    attempted_at TEXT,          -- UTC ISO time of the last attempt, successful or not
    error TEXT NOT NULL DEFAULT '',  -- why the last attempt failed ('' when it succeeded)
    skipped INTEGER NOT NULL DEFAULT 0  -- imaging appointments left out (e.g. no chart number)
);
