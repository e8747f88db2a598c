"""The ACP product feeds: the catalog as the `Product` lines of schema.feed.json, one feed per language.

`render` turns catalog rows into feed lines, `services` keeps the stored lines (catalog.FeedEntry) fresh
through the job queue, `views` serves each feed as the RFC's offline snapshot (metadata.json, products.jsonl),
`push` sends changed lines to agent platforms' Feed APIs (catalog.FeedDestination).
"""
