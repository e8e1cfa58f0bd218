"""`chromatile publish`: write a DATA_DIR's public images as a static site any file host can serve.

`site` decides what the site holds and updates OUT_DIR in a safe order, `tree` copies or hard-links
file trees incrementally, `pages` writes the viewer pages and the catalog JSON.
"""

from chromatile.publish.site import PublishReport, publish

__all__ = ["PublishReport", "publish"]
