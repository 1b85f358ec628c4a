"""Repository root conftest.

Being here, it makes pytest put the repository root on ``sys.path`` (rootdir
conftests are imported with the ``prepend`` import mode), so ``reference_models``
imports from a plain checkout in ``pytest audits`` and ``pytest`` alike. It defines
nothing: the audit fixtures live in ``audits/conftest.py``, the test suite's in
``tests/conftest.py``.
"""
