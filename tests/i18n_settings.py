"""Settings for the catalogue-completeness test: the product's, with the catalogue in a copy
(LPRNVR_TEST_LOCALE_DIR) so that `makemessages` never rewrites the repository's."""

import os
from pathlib import Path

from lprnvr.settings import *  # noqa: F403

LOCALE_PATHS = [Path(os.environ["LPRNVR_TEST_LOCALE_DIR"])]
