"""Grid-management layer (网格化管理) as H3 cells, each knowing its district.

Resolution 8 (about 0.74 km² per cell) covers the five central districts and
Changle, where grid workers patrol; resolution 6 (about 36 km²) covers the
rural counties, coarse enough to stay a few hundred cells. Cells come from
``h3.geo_to_cells`` (cell centre inside the district); a sensor whose cell's
centre falls just outside (coast, border) adds its cell to the grid under the
sensor's district, so every sensor has a grid cell.

>>> from config.city.geo import load_geo
>>> g = Grid.build(load_geo(), 8, 6, core=("350103",))
>>> taijiang = [c for c in g.cells if c.district == "350103"]
>>> taijiang[0].resolution, g.res_of_district["350102"]
(8, 6)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import h3

from config.city.geo import Geo


@dataclass(frozen=True, slots=True)
class GridCell:
    cell: str
    resolution: int
    district: str
    lon: float
    lat: float


@dataclass(frozen=True, eq=False)
class Grid:
    """All grid cells plus the resolution used in each district."""

    cells: tuple[GridCell, ...]
    res_of_district: dict[str, int]
    _index: dict[str, int] = field(repr=False)

    @staticmethod
    def build(
        geo: Geo,
        res_core: int,
        res_outer: int,
        core: Sequence[str],
        extra: Iterable[tuple[str, str]] = (),
    ) -> Grid:
        """Cells of every district; ``extra`` adds (cell, district) pairs (sensor cells)."""
        res_of = {d.adcode: (res_core if d.adcode in core else res_outer) for d in geo.districts}
        cells: list[GridCell] = []
        seen: set[str] = set()

        def add(c: str, district: str) -> None:
            if c in seen:
                return
            seen.add(c)
            lat, lon = h3.cell_to_latlng(c)
            cells.append(GridCell(c, h3.get_resolution(c), district, lon, lat))

        for d in geo.districts:
            for c in sorted(h3.geo_to_cells(d.polygon, res_of[d.adcode])):
                add(c, d.adcode)
        for c, district in extra:
            add(c, district)
        return Grid(tuple(cells), res_of, {c.cell: i for i, c in enumerate(cells)})

    def cell_for(self, lon: float, lat: float, district: str) -> str:
        """H3 cell id of a point at its district's grid resolution ('' outside the city)."""
        res = self.res_of_district.get(district)
        return "" if res is None else str(h3.latlng_to_cell(lat, lon, res))

    def get(self, cell: str) -> GridCell | None:
        i = self._index.get(cell)
        return None if i is None else self.cells[i]

    def __len__(self) -> int:
        return len(self.cells)

    def with_extra(self, extra: Iterable[tuple[str, str]]) -> Grid:
        """A grid that also holds the (cell, district) pairs not yet present."""
        missing = [(c, d) for c, d in extra if c and c not in self._index]
        if not missing:
            return self
        cells = list(self.cells)
        seen = set(self._index)
        for c, d in missing:
            if c in seen:
                continue
            seen.add(c)
            lat, lon = h3.cell_to_latlng(c)
            cells.append(GridCell(c, h3.get_resolution(c), d, lon, lat))
        return Grid(tuple(cells), self.res_of_district, {c.cell: i for i, c in enumerate(cells)})

    def polygons(self) -> list[list[list[float]]]:
        """Closed lon/lat rings of every cell, in ``cells`` order (for map layers)."""
        out = []
        for c in self.cells:
            ring = [[lon, lat] for lat, lon in h3.cell_to_boundary(c.cell)]
            ring.append(ring[0])
            out.append(ring)
        return out
