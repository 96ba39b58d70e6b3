"""IndexVersion.path: stored relative to the index folder (a copied checkout points into its
own files). Rows that name an absolute path are converted: inside the index folder, to the
path relative to it; elsewhere (an old checkout), to the file's name, since index files lie
directly in the index folder. Reversible: relative paths are made absolute again."""

from pathlib import Path

from django.conf import settings
from django.db import migrations


def index_folder() -> Path:
    return Path(settings.RETRIEVAL["INDEX_DIR"]).resolve()


def to_relative(apps, schema_editor):
    IndexVersion = apps.get_model("retrieval", "IndexVersion")
    folder = index_folder()
    for version in IndexVersion.objects.all().only("pk", "path"):
        path = Path(version.path)
        if not path.is_absolute():
            continue
        try:
            relative = str(path.resolve().relative_to(folder))
        except ValueError:
            relative = path.name
        IndexVersion.objects.filter(pk=version.pk).update(path=relative)


def to_absolute(apps, schema_editor):
    IndexVersion = apps.get_model("retrieval", "IndexVersion")
    folder = index_folder()
    for version in IndexVersion.objects.all().only("pk", "path"):
        if not Path(version.path).is_absolute():
            IndexVersion.objects.filter(pk=version.pk).update(path=str(folder / version.path))


class Migration(migrations.Migration):
    dependencies = [("retrieval", "0002_training_run")]
    operations = [migrations.RunPython(to_relative, to_absolute)]
