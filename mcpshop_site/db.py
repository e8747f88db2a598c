"""Database helpers shared by the apps' services."""

from django.db import OperationalError, transaction

DEADLOCK_RETRIES = 3


def retry_on_deadlock(write, **arguments):
    """Run `write(**arguments)` (one transaction) again when the database picked it as a deadlock victim.

    InnoDB (MariaDB/MySQL) and PostgreSQL roll the victim's whole transaction back, so running it
    again is safe; inside an outer transaction it is not, and the error goes up unchanged.
    """
    retries = 1 if transaction.get_connection().in_atomic_block else DEADLOCK_RETRIES
    for attempt in range(retries):
        try:
            return write(**arguments)
        except OperationalError as error:
            if "deadlock" not in str(error).lower() or attempt == retries - 1:
                raise
    raise AssertionError("unreachable")
