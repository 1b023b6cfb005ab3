"""Read a user's representation or factor file as a (n_samples, n_dims) float array.

One row per sample, one column per dimension, in any of:

* ``.npy`` — one array (1-D is one dimension);
* ``.npz`` — one array, or name it: ``codes.npz:embeddings`` (the error lists the keys);
* ``.csv`` — numeric columns, with or without a header row (a first row that is all numbers is
  data, except pandas' default header 0, 1, …, d − 1 above non-integer rows; pandas' default
  index column — an unnamed first column 0, 1, …, n − 1 — is dropped); a non-numeric cell is
  an error naming its row and column;
* ``.parquet`` — numeric columns (read with DuckDB, a dependency already).

Every problem is a one-line ``ValueError`` that says what to change; NaN/inf are reported by
:func:`identifiable._validation.as_2d_array` with their count, and here with their first row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["SUFFIXES", "read_array"]

SUFFIXES = (".npy", ".npz", ".csv", ".parquet")


def _split_key(path: str | Path) -> tuple[Path, str | None]:
    text = str(path)
    if ".npz:" in text:
        file, key = text.rsplit(":", 1)
        return Path(file), key
    return Path(text), None


def _from_npz(path: Path, key: str | None) -> np.ndarray:
    with np.load(path, allow_pickle=False) as archive:
        keys = list(archive.keys())
        if key is None:
            if len(keys) != 1:
                listed = ", ".join(keys) or "none"
                raise ValueError(
                    f"{path} holds {len(keys)} arrays ({listed}); name one as {path}:KEY"
                )
            key = keys[0]
        if key not in keys:
            raise ValueError(f"{path} has no array {key!r}; it has: {', '.join(keys)}")
        return archive[key]


def _from_frame(frame: pd.DataFrame, path: Path) -> np.ndarray:
    values = frame.apply(pd.to_numeric, errors="coerce")
    bad = values.isna() & frame.notna()
    if bad.to_numpy().any():
        row, column = np.argwhere(bad.to_numpy())[0]
        raise ValueError(
            f"{path}: non-numeric value {frame.iat[row, column]!r} in row {row + 1}, column "
            f"{frame.columns[column]!r}; every cell must be a number"
        )
    return values.to_numpy(dtype=np.float64)


def _is_header(frame: pd.DataFrame) -> bool:
    """The first row is a header if a cell is not a number, or if it is pandas' default header
    0, 1, …, d − 1 written as integers above rows that are not all integers."""
    first = frame.iloc[0].fillna("")
    if pd.to_numeric(first, errors="coerce").isna().any():
        return True
    default = list(first.str.strip()) == [str(i) for i in range(frame.shape[1])]
    rest = frame.iloc[1:].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return bool(default and len(rest) and (rest != np.round(rest)).any())


def _from_csv(path: Path) -> np.ndarray:
    frame = pd.read_csv(path, header=None, dtype=str, skip_blank_lines=True)
    if len(frame) and _is_header(frame):
        names = [str(c) if c == c else "" for c in frame.iloc[0]]
        frame = pd.DataFrame(frame.iloc[1:].to_numpy(), columns=names).reset_index(drop=True)
        index = pd.to_numeric(frame.iloc[:, 0], errors="coerce").to_numpy()
        if names[0] == "" and np.array_equal(index, np.arange(len(frame))):
            frame = frame.iloc[:, 1:]  # pandas' default index column (to_csv(index=True))
    return _from_frame(frame, path)


def read_array(path: str | Path) -> np.ndarray:
    """The array in ``path`` as float64 of shape (n_samples, n_dims) (see the module docs)."""
    file, key = _split_key(path)
    if file.suffix.lower() not in SUFFIXES:
        raise ValueError(
            f"cannot read {file}: use a {', '.join(SUFFIXES)} file (one row per sample)"
        )
    if not file.is_file():
        raise ValueError(f"no file at {file}")
    try:
        suffix = file.suffix.lower()
        if suffix == ".npy":
            array = np.load(file, allow_pickle=False)
        elif suffix == ".npz":
            array = _from_npz(file, key)
        elif suffix == ".csv":
            array = _from_csv(file)
        else:
            import duckdb

            frame = duckdb.read_parquet(str(file)).df()
            array = _from_frame(frame, file)
    except ValueError as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        if str(file) in message:
            raise ValueError(message) from error
        raise ValueError(f"cannot read {file}: {message}") from error
    except (OSError, EOFError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"cannot read {file}: {reason}") from error
    except Exception as error:  # duckdb's and numpy's own format errors
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"cannot read {file}: {reason}") from error
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{file} holds {array.dtype} values; it must hold numbers")
    array = array.astype(np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(
            f"{file} holds an array of shape {array.shape}; it must be (n_samples, n_dims)"
        )
    finite = np.isfinite(array)
    if not finite.all():
        row, column = np.argwhere(~finite)[0]
        raise ValueError(
            f"{file} has {int((~finite).sum())} NaN/inf values (first in row {row + 1}, "
            f"column {column + 1}); remove or impute them"
        )
    return array
