"""Export settings: the `[export]` table of the settings file (plain TOML types only).

```toml
[export]
destinations = ["opendental"]          # any of "opendental", "folder", "dicom"; empty = keep signed reports here
allow_demonstration_model = false       # export findings of a model whose manifest says demonstration (audited)

[export.opendental]
mode = "local"                          # local | service | remote
server = ""                             # service mode: the eConnector/database server's name or private IP
https = false                           # service mode over https (where the API Service offers it)
ca_file = ""                            # https: the certificate (PEM) that signed the API Service's, if not public
base_url = ""                           # overrides the mode's URL (support use)
fallback = ["remote"]                   # modes tried, in order, when the first one cannot be reached
doc_category = "Radiographs"            # Imaging category (Setup > Definitions > Image Categories)
write_images = true                     # annotated radiographs (Documents POST Upload)
write_pdf = true                        # PDF findings report (Documents POST Upload)
write_chart_note = true                 # signed chart note (Commlogs POST)
write_patient_summary = false           # patient-friendly PDF (Documents POST Upload)
popup_for_urgent = false                # a patient popup when the study is urgent (Popups POST)
write_treatment_plan = false            # confirmed treatment codes as planned procedures (ProcedureLogs POST, TP)
write_existing_conditions = false       # accepted existing work (crowns, …) as existing procedures, unless charted
existing_status = "auto"                # auto (Cn from Open Dental 25.1.14, else EO) | EO | EC | Cn
image_format = "jpg"                    # jpg | png
jpeg_quality = 90
require_birth_date = true               # refuse to write when the radiograph carries no birth date
connect_timeout = 5.0
timeout = 65.0                          # Open Dental ends calls at 60 s (504)
# [export.opendental.next_steps]: the urgent alert and the follow-up (settings/next_steps.py)

[export.folder]
path = ""                               # drop folder (UNC paths welcome)
layout = "dentrix"                      # dentrix | opendental_atoz
atoz_root = ""                          # opendental_atoz: the OpenDentImages (AtoZ) folder
atoz_def_num = 0                        # opendental_atoz: image-category DefNum prefixed as _<DefNum>_
write_images = true
write_pdf = true
write_json = true                       # dentrix layout only (Open Dental would import a sidecar)
write_patient_summary = false
image_format = "jpg"

[export.dicom]
host = ""                               # the PACS/viewer computer's name or IP address
port = 104                              # its DICOM port
called_ae = ""                          # the PACS's AE title (as set up in the PACS)
calling_ae = "DENTALBRIDGE"             # our AE title; the PACS must know it
send_gsps = true                        # a presentation state (boxes + labels over the original image)
send_sc = false                         # a secondary capture (the annotated image as a new picture)
connect_timeout = 5.0
timeout = 30.0                          # association and C-STORE response timeout

[export.retry]
backoff_base_seconds = 15.0
backoff_max_seconds = 900.0
lease_seconds = 300.0                   # a row being sent by a process that died is retried after this
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import ip_address
from urllib.parse import urlsplit

from .dicom import ae_title_problem
from .next_steps import NextStepsConfig
from .schema import SettingsError, Table

DESTINATIONS = ("opendental", "folder", "dicom")
OD_MODES = ("local", "service", "remote")
FOLDER_LAYOUTS = ("dentrix", "opendental_atoz")
IMAGE_FORMATS = ("jpg", "png")
EXISTING_STATUSES = ("auto", "EO", "EC", "Cn")  # how existing work is charted (ProcedureLogs POST ProcStatus)

# Open Dental's documented base URLs (https://www.opendental.com/site/apilocal.html)
LOCAL_URL = "http://localhost:30222/api/v1/"
SERVICE_URL = "http://{server}:30223/api/v1/"
SERVICE_URL_HTTPS = "https://{server}:30223/api/v1/"  # where the API Service is set up for https ([GAP])
REMOTE_URL = "https://api.opendental.com/api/v1/"


def is_plain_on_network(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme != "http":
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return False
    try:
        return not ip_address(host).is_loopback
    except ValueError:
        return True  # a computer name: another computer on the network


ExportConfigError = SettingsError  # the name export code and tests know


@dataclass
class OpenDentalConfig(Table):
    TABLE = "export.opendental"

    mode: str = "local"
    server: str = ""
    https: bool = False
    ca_file: str = ""
    base_url: str = ""
    fallback: list[str] = field(default_factory=list)
    doc_category: str = "Radiographs"
    write_images: bool = True
    write_pdf: bool = True
    write_chart_note: bool = True
    write_patient_summary: bool = False
    popup_for_urgent: bool = False
    # procedures change the chart's treatment plan and need the key's ProcedureLogs permission: off
    # until the practice turns them on (guarded_settings.py: with a dentist's PIN)
    write_treatment_plan: bool = False
    write_existing_conditions: bool = False
    existing_status: str = "auto"
    image_format: str = "jpg"
    jpeg_quality: int = 90
    require_birth_date: bool = True
    connect_timeout: float = 5.0
    timeout: float = 65.0
    # the urgent alert at analysis and the follow-up after sign-off (settings/next_steps.py)
    next_steps: NextStepsConfig = field(default_factory=NextStepsConfig)

    def url_for(self, mode: str) -> str:
        """The base URL for one mode (the override applies to the configured mode only)."""
        if mode == self.mode and self.base_url.strip():
            url = self.base_url.strip()
        elif mode == "local":
            url = LOCAL_URL
        elif mode == "service":
            url = (SERVICE_URL_HTTPS if self.https else SERVICE_URL).format(server=self.server.strip() or "localhost")
        elif mode == "remote":
            url = REMOTE_URL
        else:
            raise ExportConfigError(f"unknown Open Dental mode {mode!r}")
        return url if url.endswith("/") else url + "/"

    def plain_on_network(self) -> list[str]:
        """The configured URLs that send keys and radiographs unencrypted over the network
        (plain http to another computer; this computer's own loopback is fine)."""
        return [u for u in (self.url_for(m) for m in self.order()) if is_plain_on_network(u)]

    def order(self) -> list[str]:
        """Modes to try, first the configured one, then the fallbacks (no repeats)."""
        seen: list[str] = []
        for m in [self.mode, *self.fallback]:
            if m not in seen:
                seen.append(m)
        return seen

    def validate(self) -> list[str]:
        errors = []
        if self.mode not in OD_MODES:
            errors.append(f"export.opendental.mode must be one of {', '.join(OD_MODES)} (got {self.mode!r})")
        for m in self.fallback:
            if m not in OD_MODES:
                errors.append(f"export.opendental.fallback may only name {', '.join(OD_MODES)} (got {m!r})")
        if "service" in self.order() and not self.server.strip() and not (self.mode == "service" and self.base_url):
            errors.append("export.opendental.server must name the Open Dental API Service computer "
                          "(its name or private IP) when the service mode is used")
        if self.ca_file and not self.https and not self.base_url.startswith("https://"):
            errors.append("export.opendental.ca_file is only used with https: set export.opendental.https = true")
        if self.base_url and not self.base_url.startswith(("http://", "https://")):
            errors.append("export.opendental.base_url must start with http:// or https://")
        if not self.doc_category.strip():
            errors.append("export.opendental.doc_category must name an Open Dental image category, e.g. Radiographs")
        if self.image_format not in IMAGE_FORMATS:
            errors.append(f"export.opendental.image_format must be one of {', '.join(IMAGE_FORMATS)}")
        if self.existing_status not in EXISTING_STATUSES:
            errors.append(f"export.opendental.existing_status must be one of {', '.join(EXISTING_STATUSES)} "
                          f"(got {self.existing_status!r})")
        if not 30 <= self.jpeg_quality <= 100:
            errors.append("export.opendental.jpeg_quality must be between 30 and 100")
        if self.connect_timeout <= 0 or self.timeout <= 0:
            errors.append("export.opendental timeouts must be more than 0 seconds")
        if not (self.write_images or self.write_pdf or self.write_chart_note or self.write_patient_summary):
            errors.append("export.opendental writes nothing: turn on write_images, write_pdf or write_chart_note")
        return errors + self.next_steps.validate()


@dataclass
class FolderConfig(Table):
    TABLE = "export.folder"

    path: str = ""
    layout: str = "dentrix"
    atoz_root: str = ""
    atoz_def_num: int = 0
    write_images: bool = True
    write_pdf: bool = True
    write_json: bool = True
    write_patient_summary: bool = False
    image_format: str = "jpg"
    jpeg_quality: int = 90

    def validate(self) -> list[str]:
        errors = []
        if self.layout not in FOLDER_LAYOUTS:
            errors.append(f"export.folder.layout must be one of {', '.join(FOLDER_LAYOUTS)} (got {self.layout!r})")
        if self.layout == "dentrix" and not self.path.strip():
            errors.append("export.folder.path must name the drop folder for Dentrix imports")
        if self.layout == "opendental_atoz":
            if not self.atoz_root.strip():
                errors.append("export.folder.atoz_root must name Open Dental's AtoZ folder (OpenDentImages)")
            if self.atoz_def_num < 0:
                errors.append("export.folder.atoz_def_num must be an image-category DefNum (0 = first category)")
        if self.image_format not in IMAGE_FORMATS:
            errors.append(f"export.folder.image_format must be one of {', '.join(IMAGE_FORMATS)}")
        if not 30 <= self.jpeg_quality <= 100:
            errors.append("export.folder.jpeg_quality must be between 30 and 100")
        return errors


@dataclass
class DicomDestConfig(Table):
    TABLE = "export.dicom"

    host: str = ""
    port: int = 104
    called_ae: str = ""
    calling_ae: str = "DENTALBRIDGE"
    send_gsps: bool = True
    send_sc: bool = False
    connect_timeout: float = 5.0
    timeout: float = 30.0

    def validate(self) -> list[str]:
        errors = []
        if not self.host.strip():
            errors.append("export.dicom.host must name the PACS or viewer computer (its name or IP address)")
        if not isinstance(self.port, int) or isinstance(self.port, bool) or not 1 <= self.port <= 65535:
            errors.append(f"export.dicom.port must be a number between 1 and 65535 (got {self.port!r})")
        for key, what in (("called_ae", "the PACS's AE title"), ("calling_ae", "our AE title")):
            problem = ae_title_problem(str(getattr(self, key) or ""))
            if problem:
                errors.append(f"export.dicom.{key} ({what}) {problem}")
        if not (self.send_gsps or self.send_sc):
            errors.append("export.dicom sends nothing: turn on send_gsps or send_sc")
        if self.connect_timeout <= 0 or self.timeout <= 0:
            errors.append("export.dicom timeouts must be more than 0 seconds")
        return errors


@dataclass
class RetryConfig(Table):
    TABLE = "export.retry"

    backoff_base_seconds: float = 15.0
    backoff_max_seconds: float = 900.0
    lease_seconds: float = 300.0

    def validate(self) -> list[str]:
        errors = []
        if self.backoff_base_seconds <= 0:
            errors.append("export.retry.backoff_base_seconds must be more than 0")
        if self.backoff_max_seconds < self.backoff_base_seconds:
            errors.append("export.retry.backoff_max_seconds must be at least backoff_base_seconds")
        if self.lease_seconds < 10:
            errors.append("export.retry.lease_seconds must be at least 10")
        return errors


@dataclass
class ExportConfig(Table):
    TABLE = "export"

    destinations: list[str] = field(default_factory=list)
    # a demonstration model's findings reach a chart only when the practice says so (a test chart)
    allow_demonstration_model: bool = False
    opendental: OpenDentalConfig = field(default_factory=OpenDentalConfig)
    folder: FolderConfig = field(default_factory=FolderConfig)
    dicom: DicomDestConfig = field(default_factory=DicomDestConfig)
    retry: RetryConfig = field(default_factory=RetryConfig)

    def use(self, destination: str, on: bool) -> None:
        """Turn one destination on or off; the list keeps the order of DESTINATIONS."""
        wanted = (set(self.destinations) - {destination}) | ({destination} if on else set())
        self.destinations = [d for d in DESTINATIONS if d in wanted]

    def validate(self) -> list[str]:
        errors = []
        for d in self.destinations:
            if d not in DESTINATIONS:
                errors.append(f"export.destinations may only name {', '.join(DESTINATIONS)} (got {d!r})")
        if len(set(self.destinations)) != len(self.destinations):
            errors.append("export.destinations names a destination twice")
        if not isinstance(self.allow_demonstration_model, bool):
            errors.append("export.allow_demonstration_model must be true or false "
                          f"(got {self.allow_demonstration_model!r})")
        # a destination that is not used is not checked, so half-filled settings do not block the app
        if "opendental" in self.destinations:
            errors += self.opendental.validate()
        if "folder" in self.destinations:
            errors += self.folder.validate()
        if "dicom" in self.destinations:
            errors += self.dicom.validate()
        errors += self.retry.validate()
        return errors
