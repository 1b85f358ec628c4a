"""Repository root conftest: makes ``reference_models`` importable for ``pytest audits``
from a plain checkout, and keeps the weight cache of test runs out of the home directory
unless the user chose one (``MLAUDIT_CACHE_DIR``)."""
