from django.core.management.base import BaseCommand, CommandError

from catalog.management.progress import Progress
from catalog.models import Product
from catalog.search import sync, vectors
from catalog.search.embeddings import EmbeddingsUnavailable, get_backend

CHUNK = 1000


class Command(BaseCommand):
    help = (
        "Embed every product for semantic search, with a progress bar. Only products without a vector, "
        "or whose text changed since, are embedded, so an interrupted run resumes where it stopped. "
        "--rebuild starts over (needed after changing EMBEDDING_BACKEND or the model)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="Drop every stored vector and embed all again.")

    def handle(self, *args, rebuild: bool, **options):
        documents = sync.backfill_documents()  # MariaDB/MySQL keyword documents missed by bulk inserts
        if documents:
            self.stdout.write(f"Wrote {documents:,} missing keyword search documents.")
        try:
            backend = get_backend()
            model, dims = vectors.identity(backend)
            if rebuild:
                vectors.rebuild_start(backend)
            else:
                vectors.check_compatible(vectors.index_state(), backend)
        except EmbeddingsUnavailable as error:
            raise CommandError(f"Cannot embed: {error}") from None
        ids = list(Product.objects.order_by("pk").values_list("pk", flat=True))
        todo: list[int] = []
        for start in range(0, len(ids), CHUNK):
            todo += vectors.stale_ids(ids[start : start + CHUNK], model=model)
        self.stdout.write(
            f"{model} ({dims} dimensions): {len(ids):,} products, {len(ids) - len(todo):,} up to date, "
            f"{len(todo):,} to embed."
        )
        done = 0
        try:
            with Progress(len(todo), "Embedding products", stream=self.stderr) as progress:
                for start in range(0, len(todo), vectors.EMBED_BATCH):
                    chunk = todo[start : start + vectors.EMBED_BATCH]
                    done += vectors.embed_products(chunk, backend=backend)
                    progress.advance(len(chunk))
            vectors.finish(backend)
        except EmbeddingsUnavailable as error:
            raise CommandError(f"Stopped after {done:,} products: {error}. Run the command again to resume.") from None
        self.stdout.write(self.style.SUCCESS(f"Embedded {done:,} products; semantic search is up to date."))
