from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.files.storage import FileSystemStorage


class StaticStorage(ManifestStaticFilesStorage):
    """Hashed names (site.3f2a….css) for every collected file, also with DEBUG on, so the live CMS, the
    preview and the static build link the same files; plain names for files not collected yet (tests).
    """

    manifest_strict = False
    # `import … from "./analyzer.js"` in a module names the hashed file too.
    support_js_module_import_aggregation = True

    def url(self, name, force=False):
        clean = name.split("?")[0].split("#")[0]
        if self.hash_key(clean) in self.hashed_files:
            return super().url(name, force=True)
        return FileSystemStorage.url(self, name)
