"""Sphinx settings of the course's website (`make book`): the executed notebooks as pages, offline."""

import os

project = "gcnn_edu: Group Equivariant CNNs, a course"
author = "gcnn_edu"
extensions = ["myst_nb"]
myst_enable_extensions = ["dollarmath", "amsmath"]
nb_execution_mode = "off"  # the pages show the outputs stored in the notebooks; nothing re-runs
nb_ipywidgets_js = {}  # a widget needs a kernel; the pages keep its static picture, and load no script
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
suppress_warnings = ["mystnb.unknown_mime_type"]  # widget views, left out of a static page

# Everything a page needs is in the site: MathJax (from jupyter-server-mathjax) and the theme's
# assets, so that it reads with no network, as in a lecture hall with bad Wi-Fi.
html_theme = "sphinx_book_theme"
html_title = "gcnn_edu"
html_static_path = [os.environ["GCNN_EDU_BOOK_ASSETS"]]
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
myst_update_mathjax = False  # that setting writes MathJax 3's options; the bundled MathJax is version 2
mathjax2_config = {  # the package ships the STIX web fonts only
    "tex2jax": {"processClass": "math|output_area", "ignoreClass": "tex2jax_ignore|mathjax_ignore",
                "processEscapes": True},
    "HTML-CSS": {"availableFonts": [], "webFont": "STIX-Web", "imageFont": None, "preferredFont": None}}
html_theme_options = {"show_toc_level": 2, "use_download_button": False}
html_last_updated_fmt = None
