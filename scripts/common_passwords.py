"""Write service/common_passwords.txt: the 10,000 most common passwords.

The source is Django's ``CommonPasswordValidator`` list
(``django/contrib/auth/common-passwords.txt.gz``: about 20,000 passwords, most common
first, lower-case), maintained with Django itself. Django is not a dependency of
bidroom: this script reads the list out of a Django wheel once, and the result is
shipped in the package. To refresh it::

    pip download --no-deps 'django>=5.2,<5.3' -d /tmp/django
    python scripts/common_passwords.py /tmp/django/Django-*.whl
"""

from __future__ import annotations

import gzip
import sys
import zipfile
from pathlib import Path

TOP = 10_000
MEMBER = "django/contrib/auth/common-passwords.txt.gz"
TARGET = Path(__file__).resolve().parents[1] / "service" / "common_passwords.txt"


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as archive:
        words = gzip.decompress(archive.read(MEMBER)).decode("utf-8").splitlines()
    top = [w.strip() for w in words if w.strip()][:TOP]
    header = f"# The {len(top)} most common passwords, from {Path(wheel).name} ({MEMBER}).\n"
    TARGET.write_text(header + "\n".join(top) + "\n", encoding="utf-8")
    print(f"{TARGET}: {len(top)} passwords")


if __name__ == "__main__":
    main(sys.argv[1])
