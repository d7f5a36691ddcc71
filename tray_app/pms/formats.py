"""Open Dental's text formats: tooth lists and local date-times."""

from __future__ import annotations

from datetime import datetime, timezone


def tooth_numbers(teeth: list[str]) -> str:
    """Universal tooth numbers as Open Dental's ToothNumbers text, e.g. "1-5,8,A"."""
    nums = sorted({int(t) for t in teeth if str(t).isdigit() and 1 <= int(t) <= 32})
    letters = sorted({str(t).upper() for t in teeth if len(str(t)) == 1 and str(t).upper() in "ABCDEFGHIJKLMNOPQRST"})
    parts: list[str] = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        parts.append(f"{nums[i]}-{nums[j]}" if j - i >= 2 else ",".join(str(n) for n in nums[i:j + 1]))
        i = j + 1
    return ",".join(parts + letters)


def od_datetime(iso: str) -> str:
    """An ISO timestamp (UTC) as Open Dental's local `yyyy-MM-dd HH:mm:ss`."""
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        dt = datetime.now(timezone.utc)
    if dt.tzinfo is not None:
        dt = dt.astimezone()
    return dt.strftime("%Y-%m-%d %H:%M:%S")


