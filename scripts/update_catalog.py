"""Extract the package's messages, update the Chinese catalog and compile it.

Run it after adding or changing a message wrapped in ``_()``::

    python scripts/update_catalog.py          # extract, update the .po, compile the .mo
    python scripts/update_catalog.py --check  # exit 1 if the catalog is not current

Then translate the new or changed entries (those with an empty ``msgstr`` or marked
``#, fuzzy``) in ``gongshu_geo/locale/zh_CN/LC_MESSAGES/gongshu_geo.po``, remove the
``fuzzy`` marks, and run it again to compile. ``tests/test_i18n.py`` fails, naming the
message, while any entry is untranslated, fuzzy or not compiled.

Needs Babel (``pip install -e .[i18n]``); the package itself needs only the standard
library's :mod:`gettext` at run time.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gongshu_geo"
LOCALE_DIR = PACKAGE / "locale"
POT = LOCALE_DIR / "gongshu_geo.pot"
PO = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "gongshu_geo.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
_HEADER = {
    "project": "gongshu-geo",
    "copyright_holder": "the gongshu-geo contributors",
    "msgid_bugs_address": "https://github.com/gongshu-geo/gongshu-geo/issues",
}


def extract_messages() -> Catalog:
    """Return the template: every message marked in the package's Python files."""
    catalog = Catalog(**_HEADER, fuzzy=False)
    method_map = [("**.py", "python")]
    for filename, lineno, message, comments, context in extract_from_dir(
        PACKAGE, method_map=method_map, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
    ):
        if not message or (isinstance(message, tuple) and not message[0]):
            continue
        path = (Path("gongshu_geo") / filename).as_posix()
        catalog.add(message, None, [(path, lineno)], auto_comments=comments, context=context)
    return catalog


def updated_catalog(template: Catalog) -> Catalog:
    """Return the Chinese catalog brought up to ``template`` (new entries empty)."""
    if PO.exists():
        with PO.open("rb") as fh:
            catalog = read_po(fh, locale="zh_CN", domain="gongshu_geo")
    else:
        catalog = Catalog(locale="zh_CN", domain="gongshu_geo", **_HEADER, fuzzy=False)
    dates = catalog.creation_date, catalog.revision_date
    catalog.update(template, no_fuzzy_matching=True)
    if PO.exists():  # the dates of the file change only when its messages do
        template.creation_date = catalog.creation_date = dates[0]
        catalog.revision_date = dates[1]
    catalog.obsolete.clear()
    return catalog


def _po_bytes(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, catalog, width=100, no_location=True, omit_header=False, sort_output=True)
    return buf.getvalue()


def _mo_bytes(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    return buf.getvalue()


def main(argv=None) -> int:
    """Extract, update and compile; with ``--check`` only say whether that would change a file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    template = extract_messages()
    catalog = updated_catalog(template)
    todo = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    outputs = {POT: _po_bytes(template), PO: _po_bytes(catalog), MO: _mo_bytes(catalog)}
    # the creation date changes every run: compare and write without it
    stale = [p for p, data in outputs.items() if _dateless(p, data)]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is not current; run scripts/update_catalog.py")
        for msgid in todo:
            print(f"untranslated or fuzzy: {msgid!r}")
        return 1 if stale or todo else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(outputs[path])
        print(f"wrote {path.relative_to(ROOT)}")
    print(f"{len(template)} messages; {len(todo)} to translate in {PO.relative_to(ROOT)}")
    return 0


def _dateless(path: Path, data: bytes) -> bool:
    """Return whether ``data`` differs from the file at ``path`` in more than its dates."""
    if not path.exists():
        return True

    def strip(b: bytes) -> bytes:
        return b"\n".join(
            line
            for line in b.splitlines()
            if not line.startswith((b'"POT-Creation-Date:', b'"PO-Revision-Date:'))
        )

    old = path.read_bytes()
    if path.suffix == ".mo":
        return old != data
    return strip(old) != strip(data)


if __name__ == "__main__":
    sys.exit(main())
