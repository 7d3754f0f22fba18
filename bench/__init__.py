"""`make bench`: build, search, gate and CMS-import figures, medians of several runs."""
