"""Layout checks run inside a real Chromium page: overlapping plot text, clipped tables.

Used by the report and widget browser tests. Each function returns a list of
human-readable findings (empty when the page is fine), so a failing test says
exactly which text collided or which table was cut.
"""

from __future__ import annotations

from typing import Any

#: every pair of visible SVG text boxes inside one drawn plot that intersect
_OVERLAPS = """() => {
  const found = [];
  document.querySelectorAll('.cm-plot[data-drawn], .js-plotly-plot').forEach((plot, k) => {
    const boxes = [];
    plot.querySelectorAll('svg text').forEach(t => {
      const text = (t.textContent || '').trim();
      const style = window.getComputedStyle(t);
      if (!text || style.display === 'none' || style.visibility === 'hidden' ||
          style.opacity === '0') { return; }
      const r = t.getBoundingClientRect();
      if (r.width < 0.5 || r.height < 0.5) { return; }
      boxes.push({text, l: r.left, r: r.right, t: r.top, b: r.bottom});
    });
    const title = (plot.querySelector('.gtitle') || {}).textContent || ('plot ' + k);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i], b = boxes[j], tol = 1;
        if (a.l + tol < b.r && b.l + tol < a.r && a.t + tol < b.b && b.t + tol < a.b) {
          found.push(`${title}: "${a.text}" overlaps "${b.text}"`);
        }
      }
    }
  });
  return found;
}"""

#: tables cut by a scroll box or wider than the page
_CLIPPED = """() => {
  const found = [];
  const width = document.documentElement.clientWidth;
  document.querySelectorAll('table').forEach((table, k) => {
    const heads = Array.from(table.querySelectorAll("th")).slice(0, 3)
      .map(h => h.textContent.trim()).join("|");
    const name = (table.className || "table") + " #" + k + " [" + heads + "]";
    const rect = table.getBoundingClientRect();
    if (rect.width === 0) { return; }
    if (rect.right > width + 1) {
      found.push(`${name} is wider than the page (${Math.round(rect.right)} > ${width})`);
    }
    for (let el = table.parentElement; el && el !== document.body; el = el.parentElement) {
      const s = window.getComputedStyle(el);
      const scrolls = [s.overflowX, s.overflowY].some(v => v !== 'visible');
      const cut = el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1;
      if (scrolls && cut) {
        found.push(`${name} is cut by a ${s.overflowX}/${s.overflowY} box (${el.className})`);
        break;
      }
    }
  });
  return found;
}"""


def overlapping_text(page: Any) -> list[str]:
    """Pairs of plot texts (titles, ticks, legend entries) whose boxes intersect."""
    return list(page.evaluate(_OVERLAPS))


def clipped_tables(page: Any) -> list[str]:
    """Tables hidden in part by a scroll box, or wider than the viewport."""
    return list(page.evaluate(_CLIPPED))


def wait_for_figures(page: Any, timeout: float = 30_000) -> int:
    """Wait until every static figure is drawn; returns how many there are."""
    n = page.locator(".cm-plot").count()
    page.wait_for_function(
        "n => document.querySelectorAll('.cm-plot[data-drawn]').length === n",
        arg=n,
        timeout=timeout,
    )
    return n
