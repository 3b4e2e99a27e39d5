"""The min/max rollups of full scalar chunks (core/metric_rollups.py). Imported at the end of
store/tables.py, so ``Base.metadata`` always has them.

A full chunk never changes again, so its rollups are written once, in the transaction that fills it, and a
chart of a 1M-point series reads about 2,000 rolled-up points instead of 1M raw ones.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from jupyter_aml.store.tables import Base


class MetricRollupRow(Base):
    """One level of one full chunk: its first point, then each block's minimum and maximum in point order,
    then its last point (``pos`` little-endian int32 positions in the chunk, the rest float64)."""

    __tablename__ = "metric_rollups"
    series_id: Mapped[int] = mapped_column(ForeignKey("metric_series.id", ondelete="CASCADE"), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True)  # points per block
    chunk_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    pos: Mapped[bytes] = mapped_column(LargeBinary)
    steps: Mapped[bytes] = mapped_column(LargeBinary)
    values: Mapped[bytes] = mapped_column(LargeBinary)
    times: Mapped[bytes] = mapped_column(LargeBinary)
