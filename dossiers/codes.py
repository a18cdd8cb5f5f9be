"""The dossier code (mã hồ sơ), written once: ``<agency code>-<yyMMdd>-<sequence>``.

The agency code follows QCVN 102:2016/BTTTT (``XXX.YY.ZZ.Hnn``); the sequence restarts each day per
receiving agency and has at least four digits (``000.00.14.H20-200703-0002``). The code is printed,
read back from chats and typed into the lookup form: all three use the patterns below.

Within a day the sequence is unique and increasing, but it may skip a number: the number is taken
in its own short transaction before the intake's (so that one agency's counter never serialises the
intakes of a whole province), and an intake that fails after taking it leaves that number unused.
Nothing counts on consecutive numbers: see `dossiers.services.next_dossier_code`.
"""

import re
from datetime import date

AGENCY_CODE_PATTERN = r"\d{3}\.\d{2}\.\d{2}\.H\d{2}"
SEQUENCE_DIGITS = 4
# A day's sequence may outgrow four digits; the pattern accepts up to six.
CODE_PATTERN = AGENCY_CODE_PATTERN + r"-\d{6}-\d{4,6}"

AGENCY_CODE_RE = re.compile(rf"^{AGENCY_CODE_PATTERN}$")
CODE_RE = re.compile(rf"^{CODE_PATTERN}$")
# A code inside a citizen's message ("tra cứu 000.00.01.H15-261202-0001 giúp tôi"), any letter case.
CODE_IN_TEXT_RE = re.compile(rf"\b{CODE_PATTERN}\b", re.IGNORECASE)


def code_prefix(agency_code: str, day: date) -> str:
    """What every code of `agency_code`'s day starts with: ``<agency code>-<yyMMdd>-``."""
    return f"{agency_code}-{day:%y%m%d}-"


def format_code(agency_code: str, day: date, sequence: int) -> str:
    """The code of the `sequence`-th number taken by `agency_code` on `day`.

    Numbers are taken by `dossiers.services.next_dossier_code`, which also formats them in SQL
    (``lpad`` to SEQUENCE_DIGITS, never truncated): both must give the same text."""
    return f"{code_prefix(agency_code, day)}{sequence:0{SEQUENCE_DIGITS}d}"


def is_code(text: str) -> bool:
    return bool(CODE_RE.match(text or ""))
