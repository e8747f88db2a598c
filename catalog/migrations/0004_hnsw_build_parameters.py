from django.db import migrations


def rebuild_hnsw_index(apps, schema_editor):
    """Rebuild an existing HNSW index with the build parameters of catalog.search.schema (B6).

    At 100,000 products this takes a few minutes; a database without the index gets it, built the
    same way, from `embed_products`.
    """
    from django.conf import settings

    from catalog.search import schema

    connection = schema_editor.connection
    if connection.vendor != "postgresql" or not settings.PGVECTOR or not schema.pgvector_ready(connection):
        return
    state = apps.get_model("catalog", "SearchIndex").objects.filter(name="products").first()
    with connection.cursor() as cursor:
        has_index = bool(schema._hnsw_indexes(cursor))
    if state is not None and state.dims and has_index:
        schema.ensure_hnsw_index(connection, state.dims)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_product_sort_indexes"),
    ]

    operations = [
        migrations.RunPython(rebuild_hnsw_index, migrations.RunPython.noop),
    ]
