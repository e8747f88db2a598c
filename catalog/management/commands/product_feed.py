import json
from pathlib import Path

from django.core.management.base import BaseCommand

from catalog.feeds.render import FEEDS
from catalog.feeds.services import feed_lines, feed_metadata, feed_rebuild, feed_refresh_stale


class Command(BaseCommand):
    help = (
        "Bring the ACP product feeds up to date: render the stale lines (the job queue does it after every "
        "change; this catches up after bulk inserts), or every line with --rebuild. --output DIR writes each "
        "feed's snapshot files, DIR/<feed>/metadata.json and products.jsonl, for an agent platform's upload."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="Render every product's lines again.")
        parser.add_argument("--output", type=Path, help="Write the feeds' snapshot files under this folder.")

    def handle(self, *args, rebuild: bool, output: Path | None, **options):
        changed = feed_rebuild() if rebuild else feed_refresh_stale()
        self.stdout.write(f"{changed:,} feed entries changed.")
        for feed in FEEDS if output else ():
            folder = output / feed
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "metadata.json").write_text(json.dumps(feed_metadata(feed)) + "\n", encoding="utf-8")
            with (folder / "products.jsonl").open("w", encoding="utf-8") as products:
                products.writelines(feed_lines(feed))
            self.stdout.write(f"Wrote {folder / 'metadata.json'} and {folder / 'products.jsonl'}.")
