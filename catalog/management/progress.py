"""A one-line progress bar for management commands, written to stderr (no dependency)."""

import time

from django.core.management.base import OutputWrapper


class Progress:
    """Show `label [#####.....]  50%  5,000/10,000  2,400/s  ETA 2s` and redraw it in place.

    Use as `with Progress(total, "products", stream=self.stderr) as bar: bar.advance(n)`. On a
    terminal the line is redrawn at most ten times a second; elsewhere (logs, CI) a line is printed
    at every tenth of the way, so the output stays short.
    """

    def __init__(self, total: int, label: str = "", *, stream, width: int = 30):
        self.total, self.label, self.stream, self.width = max(total, 0), label, stream, width
        self.done = 0
        self.started = self._shown_at = time.monotonic()
        self._tty = bool(getattr(stream, "isatty", lambda: False)())
        self._shown_tenth = -1

    def __enter__(self):
        self._show()
        return self

    def __exit__(self, *exc):
        self._show(final=True)

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self.done >= self.total:
            return  # the closing line shows 100%
        due = time.monotonic() - self._shown_at >= 0.1 if self._tty else self._tenth() > self._shown_tenth
        if due:
            self._show()

    def _tenth(self) -> int:
        return self.done * 10 // self.total if self.total else 10

    def _show(self, final: bool = False) -> None:
        self._shown_at, self._shown_tenth = time.monotonic(), self._tenth()
        elapsed = max(self._shown_at - self.started, 1e-9)
        fraction = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = round(fraction * self.width)
        rate = self.done / elapsed
        tail = f"{elapsed:.1f}s" if final else f"ETA {(self.total - self.done) / rate:.0f}s" if rate else "ETA ?"
        line = (
            f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {fraction:4.0%} "
            f"{self.done:,}/{self.total:,}  {rate:,.0f}/s  {tail}"
        )
        end = "\n" if final or not self._tty else ""
        self._write(f"\r{line}\x1b[K{end}" if self._tty else f"{line}{end}")

    def _write(self, text: str) -> None:
        if isinstance(self.stream, OutputWrapper):
            self.stream.write(text, style_func=str, ending="")  # not the red of errors
        else:
            self.stream.write(text)
        self.stream.flush()
