"""The widget's JavaScript, gzipped, without ChatJS (``tools.widget_size``): what its window loads when it opens stays
under 40 KB; Markdown's libraries (marked, DOMPurify) and the transcript download load only when needed."""

from __future__ import annotations

from tools.widget_size import LOADER, WINDOW, Sizes, measure

LIMIT = 40 * 1024


def test_the_widget_window_loads_under_40_kb_and_markdown_only_when_needed() -> None:
    sizes = measure()
    at_open = Sizes.total(sizes.window)
    print(f"\nwidget window at open: {at_open:,} B gzipped (Parley's own {Sizes.total(sizes.window, vendor=False):,} B,"
          f" npm {Sizes.total(sizes.window, vendor=True):,} B); embedding page: {Sizes.total(sizes.loader):,} B;"
          f" only when needed: {Sizes.total(sizes.on_demand):,} B")
    assert at_open < LIMIT, [(m.name, m.gzipped) for m in sizes.window]
    names = {m.name for m in sizes.window}
    assert WINDOW in names and {"preact", "@preact/signals"} <= names
    assert not names & {"marked", "dompurify"}, "Markdown's libraries must not load before a Markdown message"
    assert {m.name for m in sizes.on_demand} == {"marked", "dompurify", "widget/chat/transcript.js"}
    assert [m.name for m in sizes.loader] == [LOADER]  # the embedding page gets one small script
