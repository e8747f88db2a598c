"""Static files in production: whitenoise's compressed, hashed files, with ES module imports hashed too."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Rewrite `import ... from "./x.js"` in the shop's modules to the hashed names, like url() in CSS."""

    support_js_module_import_aggregation = True
