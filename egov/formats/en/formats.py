# English pages keep the dd/mm/yyyy dates that Vietnamese paperwork uses, with English number separators.
from egov.formats.vi.formats import *  # noqa: F403

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
