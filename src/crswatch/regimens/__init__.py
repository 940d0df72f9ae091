"""Treatment regimens and their state machines: blinatumomab (BLINCYTO) first.

``plan_blinatumomab`` plans cycles, premedication and hospital stays for a patient;
``blinatumomab_status`` runs the label's interruption and dose-modification rules over a
patient's record.  Every output names the rule, its source and whether it is verified.
"""

# One regimen so far; its package owns the names, re-exported here unchanged.
from crswatch.regimens.blinatumomab import *  # noqa: F403
from crswatch.regimens.blinatumomab import __all__ as __all__
