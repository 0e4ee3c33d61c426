"""Progress bars for long imports (tqdm, when it is installed)."""

from __future__ import annotations

import typing as t

__all__ = ["TqdmProgress", "tqdm_progress"]


class TqdmProgress:
    """A progress callable ``(stage, done, total)`` drawing one tqdm bar per stage."""

    def __init__(self, tqdm: t.Any) -> None:
        self._tqdm = tqdm
        self._bars: t.Dict[str, t.Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        bar = self._bars.get(stage)
        if bar is None:
            bar = self._bars[stage] = self._tqdm(total=total, desc=stage, unit="line", leave=False)
        bar.total = total
        bar.update(done - bar.n)

    def close(self) -> None:
        """Close every bar."""
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()


def tqdm_progress() -> t.Optional[TqdmProgress]:
    """A :class:`TqdmProgress`, or ``None`` when tqdm is not installed."""
    try:
        from tqdm.auto import tqdm  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return None
    return TqdmProgress(tqdm)
