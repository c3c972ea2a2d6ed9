"""Sphinx configuration of the skrnn documentation.

Build: ``sphinx-build -W --keep-going -b html doc doc/_build/html`` from the
repository root, with the package installed (``pip install ".[doc]"``).
"""

import importlib
import re
from pathlib import Path

import skrnn

project = "skrnn"
author = "the skrnn developers"
copyright = "2026, the skrnn developers"
release = skrnn.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**/*.ipynb", "**/*.py", "**/*.md5", "**/*.zip"]
default_role = "literal"

# API reference: one page per public name, from the installed package.
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
# numpydoc renders Parameters / Attributes; the class template lists the
# methods itself, so numpydoc must not add a second table of members.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# The executed gallery. The examples are small enough to run in seconds on two
# cores; a failing example fails the build.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
    "reference_url": {"skrnn": None},
    "doc_module": ("skrnn",),
    "backreferences_dir": "gen_modules/backreferences",
}

html_theme = "pydata_sphinx_theme"
html_title = f"skrnn {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_sidebars = {"index": [], "install": []}
html_static_path = []
html_show_sourcelink = False


# Every public name of these modules must be in api.rst: a name missing there
# is a warning, so `-W` fails the build.
PUBLIC_MODULES = [
    "skrnn",
    "skrnn.preprocessing",
    "skrnn.datasets",
    "skrnn.inspection",
    "skrnn.plotting",
]


def _public_names(module):
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and getattr(obj, "__module__", "").startswith(module.__name__)
    ]


def check_api_reference(app):
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    text = (Path(app.srcdir) / "api.rst").read_text()
    listed = set(re.findall(r"^\s+(?:\.\. data:: )?([A-Za-z_]\w*)\s*$", text, re.M))
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        for public in _public_names(module):
            if public not in listed:
                logger.warning("%s.%s is public but not in api.rst", name, public)


# scikit-learn's metadata-routing methods (get_metadata_routing,
# set_fit_request, ...) and set_output are inherited unchanged; their
# docstrings point into scikit-learn's own user guide, which is not part of
# these pages. api.rst says where they are documented.
SKLEARN_PLUMBING = re.compile(r"get_metadata_routing|set_\w+_request|set_output")


def skip_sklearn_plumbing(app, what, name, obj, skip, options):
    if SKLEARN_PLUMBING.fullmatch(name):
        return True
    return None


def setup(app):
    app.connect("builder-inited", check_api_reference)
    app.connect("autodoc-skip-member", skip_sklearn_plumbing)
