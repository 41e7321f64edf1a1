"""The walking graph: a light, undirected graph held in numpy arrays.

A :class:`WalkGraph` keeps node coordinates in the metric CRS (EPSG:4549) and,
for each edge, its two nodes, its length in metres and, where known, its
geometry. :mod:`gongshu_geo.data.graphs` reads and builds it;
:mod:`gongshu_geo.analysis.network` searches it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp
import shapely

from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import gettext as _

#: Coordinates of line-layer vertices are rounded to this many metres to find nodes.
NODE_PRECISION_M = 0.01


@dataclass(frozen=True, eq=False)
class WalkGraph:
    """An undirected walking graph in EPSG:4549.

    Parameters
    ----------
    node_xy : numpy.ndarray
        ``(n, 2)`` node coordinates in metres (EPSG:4549).
    u, v : numpy.ndarray
        Node positions (0 to n - 1) at the two ends of each edge.
    length_m : numpy.ndarray
        Walking length of each edge in metres.
    edge_geometry : numpy.ndarray, optional
        Shapely LineStrings from node ``u`` to node ``v`` in EPSG:4549; straight
        segments between the nodes when omitted.
    node_ids : numpy.ndarray, optional
        The nodes' identifiers in the source (GraphML ids); positions by default.
    """

    node_xy: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    edge_geometry: np.ndarray | None = None
    node_ids: np.ndarray | None = None

    def __post_init__(self):
        n, shape = len(self.node_xy), np.shape(self.node_xy)
        geometry = () if self.edge_geometry is None else (len(self.edge_geometry),)
        sizes = {len(self.u), len(self.v), len(self.length_m), *geometry}
        problems = []
        if shape[1:] != (2,):
            problems.append(_("node_xy must have shape (n, 2); found {shape}").format(shape=shape))
        if len(sizes) != 1:
            problems.append(
                _("u, v, length_m, edge_geometry must be equally long; found {sizes}").format(
                    sizes=sizes
                )
            )
        for name, ends in (("u", self.u), ("v", self.v)):
            if len(ends) and (np.min(ends) < 0 or np.max(ends) >= n):
                problems.append(
                    _("{name} must hold node positions 0..{n}").format(name=name, n=n - 1)
                )
        if not np.all(np.asarray(self.length_m) >= 0):
            problems.append(_("length_m must be non-negative metres"))
        if problems:
            raise InputError(problems, source="walking graph")

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_xy)

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return len(self.u)

    @cached_property
    def lines(self) -> np.ndarray:
        """Edge geometries (LineStrings in EPSG:4549), straight where none were given."""
        if self.edge_geometry is not None:
            return np.asarray(self.edge_geometry, dtype=object)
        coords = np.stack([self.node_xy[self.u], self.node_xy[self.v]], axis=1)
        return shapely.linestrings(coords)

    @cached_property
    def matrix(self):
        """Sparse adjacency (CSR, upper triangle: search it with ``directed=False``).

        Of parallel edges the shortest is kept; loops are dropped.
        """
        a, b = np.minimum(self.u, self.v), np.maximum(self.u, self.v)
        keep = a != b
        a, b, w = a[keep], b[keep], np.asarray(self.length_m, dtype=float)[keep]
        order = np.lexsort((w, b, a))
        a, b, w = a[order], b[order], w[order]
        first = np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1])]
        n = self.n_nodes
        return sp.csr_matrix((w[first], (a[first], b[first])), shape=(n, n))

    @cached_property
    def node_tree(self):
        """KD-tree of the nodes."""
        from scipy.spatial import cKDTree

        return cKDTree(self.node_xy, balanced_tree=False, compact_nodes=False)

    @cached_property
    def incidence(self) -> tuple[np.ndarray, np.ndarray]:
        """Edges at each node, CSR-style: node ``k``'s are ``inc[ptr[k]:ptr[k + 1]]``."""
        ends = np.r_[self.u, self.v]
        edges = np.r_[np.arange(self.n_edges), np.arange(self.n_edges)]
        order = np.argsort(ends, kind="stable")
        ptr = np.searchsorted(ends[order], np.arange(self.n_nodes + 1))
        return ptr, edges[order]

    @cached_property
    def edge_tree(self) -> shapely.STRtree:
        """Spatial index of the edges."""
        return shapely.STRtree(self.lines)

    def __repr__(self) -> str:
        return f"WalkGraph({self.n_nodes} nodes, {self.n_edges} edges, EPSG:4549)"
