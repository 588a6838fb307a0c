"""Building the real tier: its tools (tools.py, one entry each; Go mechanics in gobuild.py) and its
images (images.py, one entry each; mechanics in imaging.py), kept in a cache outside the
repository (cache.py). `python -m realtier.build` (scripts/engine) builds and lists both."""
