"""Messages in Chinese or English: the one module that owns translation.

English is the message id itself; Chinese comes from the catalog shipped in the
package, ``locale/zh_CN/LC_MESSAGES/gongshu_geo.mo`` (its source ``.po`` beside
it; ``scripts/update_catalog.py`` extracts, updates and compiles them).

The language is looked up each time a message is made, not at import, so that
:func:`set_language` (the CLI's ``--lang``) takes effect after the package is
imported. Without it the environment decides, in this order: ``LC_ALL``,
``LC_MESSAGES``, ``LANG``, ``LANGUAGE``; the first one set decides, ``zh*`` means
Chinese and anything else (``C``, ``POSIX``, ``en_US.UTF-8``) English.

Write messages with named placeholders, filled after the lookup::

    from gongshu_geo.core.i18n import gettext as _

    raise InputError(_("{file}: no layer {layer!r}").format(file=path, layer=name))

This module sits at the bottom of the package and imports nothing of it.
"""

from __future__ import annotations

import argparse
import contextlib
import gettext as _gettext
import os
import re
from functools import cache
from pathlib import Path

#: The gettext domain: the catalog's file name.
DOMAIN = "gongshu_geo"

#: Where the compiled catalogs are: ``<LOCALE_DIR>/zh_CN/LC_MESSAGES/gongshu_geo.mo``.
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"

#: Languages the package speaks, by ``--lang`` value, and the catalog of each.
LANGUAGES = {"en": None, "zh": "zh_CN"}

#: Environment variables that choose the language, first one set wins.
ENV_VARS = ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")

_chosen: str | None = None


def N_(message: str) -> str:  # noqa: N802 - the conventional name of the gettext no-op marker
    """Mark ``message`` for the catalog without translating it here."""
    return message


def resolve_language(lang: str | None = None, *, environ=None) -> str:
    """Return ``"zh"`` or ``"en"``: ``lang`` if given, else what the environment asks for.

    Parameters
    ----------
    lang : str, optional
        An explicit choice (``zh``, ``en``, or a locale name such as ``zh_CN.UTF-8``).
    environ : mapping, optional
        The environment to read; by default :data:`os.environ`.

    Returns
    -------
    str
        ``"zh"`` for any name starting with ``zh``, else ``"en"``.

    Examples
    --------
    >>> resolve_language("zh_CN.UTF-8")
    'zh'
    >>> resolve_language(environ={"LANG": "zh_TW.UTF-8", "LC_ALL": "C"})
    'en'
    >>> resolve_language(environ={"LANGUAGE": "zh_CN:en"})
    'zh'
    """
    if not lang:
        environ = os.environ if environ is None else environ
        lang = next((environ[var] for var in ENV_VARS if environ.get(var)), "")
        lang = lang.split(":", 1)[0]
    return "zh" if lang.strip().lower().startswith("zh") else "en"


def set_language(lang: str | None) -> str:
    """Speak ``lang`` (``zh`` or ``en``) from now on; None goes back to the environment.

    Parameters
    ----------
    lang : str or None
        ``zh``, ``en`` (or a locale name), or None to follow ``LC_ALL``/``LANG``.

    Returns
    -------
    str
        The language now in use, ``"zh"`` or ``"en"``.
    """
    global _chosen
    _chosen = resolve_language(lang) if lang else None
    return current_language()


def current_language() -> str:
    """Return the language messages are made in now, ``"zh"`` or ``"en"``."""
    return _chosen or resolve_language()


@cache
def _catalog(lang: str):
    locale = LANGUAGES.get(lang)
    if locale is None:
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, LOCALE_DIR, languages=[locale], fallback=True)


def gettext(message: str) -> str:
    """Return ``message`` in the current language (import it as ``_``)."""
    return _catalog(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Return the singular or plural form for ``n``, in the current language."""
    return _catalog(current_language()).ngettext(singular, plural, n)


@contextlib.contextmanager
def translating_argparse():
    """Let argparse's own words (usage:, options:, its errors) come from our catalog.

    argparse looks them up through the module-level ``_`` it imported from the
    standard :mod:`gettext`; while this is active that name points to
    :func:`gettext`, and is put back after.
    """
    saved = argparse._, argparse.ngettext
    argparse._, argparse.ngettext = gettext, ngettext
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved


class ArgumentParser(argparse.ArgumentParser):
    """An :class:`argparse.ArgumentParser` whose own words are in the current language.

    Its subcommand parsers are of the same class, so ``--help`` and the errors of
    every command come out wholly in Chinese under ``zh``.
    """

    def __init__(self, *args, **kwargs):
        with translating_argparse():
            super().__init__(*args, **kwargs)

    def parse_args(self, args=None, namespace=None):  # noqa: D102 - as argparse's
        with translating_argparse():
            return super().parse_args(args, namespace)

    def parse_known_args(self, args=None, namespace=None):  # noqa: D102 - as argparse's
        with translating_argparse():
            return super().parse_known_args(args, namespace)

    def format_usage(self):  # noqa: D102 - as argparse's
        with translating_argparse():
            return super().format_usage()

    def format_help(self):  # noqa: D102 - as argparse's
        with translating_argparse():
            text = super().format_help()
        if current_language() == "zh":  # section headings end in argparse's own ASCII colon
            text = re.sub(r"^(\S[^\n]*?):$", r"\1：", text, flags=re.M)
        return text

    def error(self, message):  # noqa: D102 - as argparse's
        with translating_argparse():
            super().error(message)


# argparse's own words (Python 3.10 to 3.13), so that the extraction puts them in the catalog.
ARGPARSE_MESSAGES = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("optional arguments"),
    N_("show this help message and exit"),
    N_("show program's version number and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"),
    N_("one of the arguments %s is required"),
    N_("unrecognized arguments: %s"),
    N_("not allowed with argument %s"),
    N_("ignored explicit argument %r"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("invalid %(type)s value: %(value)r"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("unknown parser %(parser_name)r (choices: %(choices)s)"),
    N_("can't open '%(filename)s': %(error)s"),
    N_("unexpected option string: %s"),
)
