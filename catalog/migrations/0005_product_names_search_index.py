from django.db import migrations


def create_names_index(apps, schema_editor):
    """PostgreSQL: the GIN index on the product names' tsvector that keyword search takes name matches from
    (catalog.search.schema.install_postgresql_names_index); a few seconds at 100,000 products. The text
    functions are replaced first: the index build runs them with no schema on the search_path, so
    catalog_search_text now names the schema of catalog_cjk_grams."""
    from catalog.search import schema

    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            schema.create_postgresql_functions(cursor)
            schema.install_postgresql_names_index(cursor)


def drop_names_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS catalog_product_names_search")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_hnsw_build_parameters"),
    ]

    operations = [
        migrations.RunPython(create_names_index, drop_names_index),
    ]
