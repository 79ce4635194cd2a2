"""Every URL pattern the project routes has a door in a permission matrix: adding a URL without
saying who may use it fails here."""

from lprnvr.alerts.tests import test_permission_matrix as alerts
from lprnvr.tests import test_permission_matrix as foundation
from lprnvr.tests.matrix import uncovered
from plates.tests import test_permission_matrix as plates
from recordings.tests import test_permission_matrix as recordings


def test_every_routed_url_is_in_a_matrix():
    missing = uncovered(foundation.MATRIX, plates.MATRIX, recordings.MATRIX, alerts.MATRIX)
    assert missing == [], "URL patterns with no entry in any permission matrix:\n" + "\n".join(missing)
