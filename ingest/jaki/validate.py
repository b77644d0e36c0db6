"""Validation: vectorised row-level checks, and the Great Expectations table-level contract.

Row-level checks run in polars over the whole batch (a million rows in well under a second). Each
check is named after the Great Expectations expectation it mirrors, so a quarantine row says which
contract clause the row broke (``expect_column_values_to_be_in_set`` ...). The accepted rows are
then validated by a real GE 1.x suite built from the same spec (ephemeral context, pandas
datasource) — on the whole batch, or on a uniform sample of ``ge_sample_rows`` for big batches —
so the table-level contract is checked by GE itself and a bug in the fast path cannot pass silently.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ingest.jaki.privacy import contains_personal_data
from ingest.jaki.readers import LINE, RawBatch
from ingest.jaki.schemas import Column, TableSpec, known_kelurahan_codes

log = logging.getLogger(__name__)

TS_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%:z"
REDACTED = "<redacted>"
HASH_REGEX = r"^[0-9a-f]{64}$"


@dataclass
class CheckedBatch:
    accepted: pl.DataFrame  # typed, spec column names (sensitive columns still raw)
    quarantine: pl.DataFrame  # line, column_name, value, reason, check_name
    fields_redacted: int = 0
    check_counts: dict[str, int] = field(default_factory=dict)


def _parse_ts(raw: pl.Expr, typed_ts: bool) -> pl.Expr:
    if typed_ts:
        return raw.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    # "Z" is accepted as "+00:00"; a missing offset is an error (the export's zone is not guessed)
    text = pl.when(raw.str.ends_with("Z")).then(raw.str.head(-1) + "+00:00").otherwise(raw)
    return text.str.to_datetime(TS_FORMAT, time_unit="us", time_zone="UTC", strict=False)


def _parse(c: Column, raw: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if c.kind == "ts":
        return _parse_ts(raw, isinstance(dtype, pl.Datetime))
    if c.kind == "int":
        return raw if dtype.is_integer() else raw.str.strip_chars().cast(pl.Int64, strict=False)
    if c.kind == "float":
        return raw.cast(pl.Float64) if dtype.is_numeric() else raw.str.strip_chars().cast(pl.Float64, strict=False)
    return raw if dtype == pl.String else raw.cast(pl.String)


def _value_text(c: Column, raw: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if c.sensitive:
        return pl.lit(REDACTED)
    return (raw if dtype == pl.String else raw.cast(pl.String)).str.slice(0, 200)


@dataclass(frozen=True)
class _Rule:
    cond: pl.Expr  # True where the row breaks the rule (over parsed ``_p_*`` / ``_e_*`` columns)
    reason: str
    column: str
    value: pl.Expr  # the offending value as text (redacted for sensitive columns)


def _rules(spec: TableSpec, schema: pl.Schema) -> list[_Rule]:
    kel_codes = sorted(known_kelurahan_codes())
    rules: list[_Rule] = []
    for c in spec.columns:
        p, empty = pl.col(f"_p_{c.name}"), pl.col(f"_e_{c.name}")
        val = _value_text(c, pl.col(c.name), schema[c.name])

        def add(cond: pl.Expr, reason: str, c: Column = c, val: pl.Expr = val) -> None:
            rules.append(_Rule(cond.fill_null(False), reason, c.name, val))

        if c.required:
            add(empty, "expect_column_values_to_not_be_null: missing value")
        kind_msg = {
            "ts": "expect_column_values_to_match_strftime_format: not an ISO 8601 timestamp with UTC offset",
            "int": "expect_column_values_to_be_of_type: not an integer",
            "float": "expect_column_values_to_be_of_type: not a number",
            "str": "expect_column_values_to_be_of_type: not text",
        }[c.kind]
        add(~empty & p.is_null(), kind_msg)
        if c.min is not None or c.max is not None:
            lo = c.min if c.min is not None else float("-inf")
            hi = c.max if c.max is not None else float("inf")
            add(~p.is_between(lo, hi), f"expect_column_values_to_be_between: outside [{lo}, {hi}]")
            if c.kind == "float":
                add(p.is_nan(), "expect_column_values_to_be_between: NaN")
        if c.allowed is not None:
            add(~p.is_in(list(c.allowed)), f"expect_column_values_to_be_in_set: unknown {c.name}")
        if c.regex is not None:
            add(~p.str.contains(c.regex), "expect_column_values_to_match_regex: bad format")
        if c.ref == "kelurahan":
            add(~p.is_in(kel_codes), "expect_column_values_to_be_in_set: unknown kelurahan code")
    for rule in spec.pairs:
        a, b = pl.col(f"_p_{rule.a}"), pl.col(f"_p_{rule.b}")
        bad = (a < b) if rule.or_equal else (a <= b)
        rules.append(
            _Rule(
                bad.fill_null(False),
                f"expect_column_pair_values_a_to_be_greater_than_b: {rule.doc} violated",
                rule.a,
                _value_text(spec.column(rule.a), pl.col(rule.a), schema[rule.a]),
            )
        )
    return rules


def check_rows(batch: RawBatch, spec: TableSpec) -> CheckedBatch:
    """Apply every row-level rule of ``spec``; returns accepted rows and quarantine records.

    Phase 1 parses every column once; phase 2 evaluates each rule as a boolean column; only
    the (few) failing rows get their reason text built.
    """
    df = batch.frame
    schema = df.schema
    prepared = []
    for c in spec.columns:
        raw = pl.col(c.name)
        dtype = schema[c.name]
        empty = raw.is_null() if dtype != pl.String else (raw.is_null() | (raw.str.len_bytes() == 0))
        prepared.append(empty.alias(f"_e_{c.name}"))
        prepared.append(_parse(c, raw, dtype).alias(f"_p_{c.name}"))
    df = df.with_columns(prepared)
    rules = _rules(spec, schema)
    flags = df.select([r.cond.alias(f"_r{i}") for i, r in enumerate(rules)])
    bad_mask = flags.select(pl.any_horizontal(pl.all())).to_series() if rules else pl.Series([False] * df.height)
    counts: dict[str, int] = {}
    for i, s in enumerate(flags.sum().row(0) if rules else ()):
        if s:
            check = rules[i].reason.split(":")[0]
            counts[check] = counts.get(check, 0) + int(s)

    bad_rows = pl.concat([df, flags], how="horizontal").filter(bad_mask)
    # carry only the line and the parsed columns forward (half the columns to copy)
    good = df.select([LINE, *[f"_p_{c.name}" for c in spec.columns]]).filter(~bad_mask)
    n = len(rules)
    q = (
        bad_rows.select(
            pl.col(LINE).alias("line"),
            pl.coalesce([pl.when(pl.col(f"_r{i}")).then(pl.lit(rules[i].column)) for i in range(n)]).alias(
                "column_name"
            ),
            pl.coalesce([pl.when(pl.col(f"_r{i}")).then(rules[i].value) for i in range(n)])
            .cast(pl.String)
            .alias("value"),
            pl.concat_str(
                [pl.when(pl.col(f"_r{i}")).then(pl.lit(rules[i].reason)) for i in range(n)],
                separator="; ",
                ignore_nulls=True,
            ).alias("reason"),
            pl.coalesce(
                [pl.when(pl.col(f"_r{i}")).then(pl.lit(rules[i].reason.split(":")[0])) for i in range(n)]
            ).alias("check_name"),
        )
        if n
        else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    )

    # uniqueness of the row key among otherwise valid rows (first occurrence wins)
    key_cols = [f"_p_{k}" for k in spec.keys]
    first = pl.struct(key_cols).is_first_distinct() if len(key_cols) > 1 else pl.col(key_cols[0]).is_first_distinct()
    good = good.with_columns(first.alias("_first"))
    dup = good.filter(~pl.col("_first"))
    parts = [q]
    if dup.height:
        first_lines = good.filter(pl.col("_first")).join(dup.select(key_cols).unique(), on=key_cols, how="semi")
        dup = dup.join(first_lines.select([*key_cols, pl.col(LINE).alias("_first_line")]), on=key_cols, how="left")
        key0 = spec.column(spec.keys[0])
        parts.append(
            dup.select(
                pl.col(LINE).alias("line"),
                pl.lit(spec.keys[0]).alias("column_name"),
                (pl.lit(REDACTED) if key0.sensitive else pl.col(f"_p_{spec.keys[0]}").cast(pl.String)).alias("value"),
                pl.format(
                    "expect_column_values_to_be_unique: duplicate key (first seen at line {})", "_first_line"
                ).alias("reason"),
                pl.lit("expect_column_values_to_be_unique").alias("check_name"),
            )
        )
        counts["expect_column_values_to_be_unique"] = dup.height
        good = good.filter(pl.col("_first"))

    fields_redacted = 0
    accepted = good.select([pl.col(LINE), *[pl.col(f"_p_{c.name}").alias(c.name) for c in spec.columns]])
    for c in spec.columns:
        if c.pii == "free_text":
            flag = contains_personal_data(pl.col(c.name))
            fields_redacted += int(accepted.select(flag.sum()).item())
            accepted = accepted.with_columns(pl.when(flag).then(None).otherwise(pl.col(c.name)).alias(c.name))

    if batch.rejects:
        parts.append(
            pl.DataFrame(
                [
                    {"line": r.line, "column_name": r.column, "value": None, "reason": r.reason, "check_name": r.check}
                    for r in batch.rejects
                ],
                schema=QUARANTINE_SCHEMA,
            )
        )
        for r in batch.rejects:
            counts[r.check] = counts.get(r.check, 0) + 1
    quarantine = pl.concat([p.cast(QUARANTINE_SCHEMA) for p in parts], how="vertical")  # type: ignore[arg-type]
    return CheckedBatch(accepted=accepted, quarantine=quarantine, fields_redacted=fields_redacted, check_counts=counts)


QUARANTINE_SCHEMA = {
    "line": pl.Int64,
    "column_name": pl.String,
    "value": pl.String,
    "reason": pl.String,
    "check_name": pl.String,
}


# -- Great Expectations (table-level contract) --------------------------------------------------


@dataclass(frozen=True)
class ExpectationOutcome:
    name: str  # unique per suite: "<expectation_type>__<column>"
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int | None
    observed: Any = None


@dataclass(frozen=True)
class GEReport:
    success: bool
    rows_validated: int
    outcomes: tuple[ExpectationOutcome, ...]

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]


def expectation_plan(spec: TableSpec, stored: bool = True) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    """(name, expectation class name, column, kwargs) for the GE suite of ``spec``.

    ``stored=True`` describes the table as stored in the lake (hashed identifiers, lake names).
    """
    plan: list[tuple[str, str, str | None, dict[str, Any]]] = []
    cols = [c.lake_name if stored else c.name for c in spec.columns]
    plan.append(("table_columns", "ExpectTableColumnsToMatchSet", None, {"column_set": cols, "exact_match": False}))
    for c in spec.columns:
        name = c.lake_name if stored else c.name
        if c.required:
            plan.append((f"not_null__{name}", "ExpectColumnValuesToNotBeNull", name, {}))
        if c.allowed is not None:
            plan.append((f"in_set__{name}", "ExpectColumnValuesToBeInSet", name, {"value_set": list(c.allowed)}))
        if c.min is not None or c.max is not None:
            plan.append(
                (f"between__{name}", "ExpectColumnValuesToBeBetween", name, {"min_value": c.min, "max_value": c.max})
            )
        if c.ref == "kelurahan":
            plan.append(
                (
                    f"known_kelurahan__{name}",
                    "ExpectColumnValuesToBeInSet",
                    name,
                    {"value_set": sorted(known_kelurahan_codes())},
                )
            )
        elif c.regex is not None and not c.sensitive:
            plan.append((f"regex__{name}", "ExpectColumnValuesToMatchRegex", name, {"regex": c.regex}))
        if c.pii == "hash" and stored:
            plan.append((f"hashed__{name}", "ExpectColumnValuesToMatchRegex", name, {"regex": HASH_REGEX}))
    if len(spec.keys) == 1:
        k = spec.column(spec.keys[0]).lake_name
        plan.append((f"unique__{k}", "ExpectColumnValuesToBeUnique", k, {}))
    else:
        plan.append(
            (
                "unique__" + "__".join(spec.lake_keys),
                "ExpectCompoundColumnsToBeUnique",
                None,
                {"column_list": list(spec.lake_keys)},
            )
        )
    for p in spec.pairs:
        a, b = spec.column(p.a).lake_name, spec.column(p.b).lake_name
        plan.append(
            (
                f"pair__{a}__{b}",
                "ExpectColumnPairValuesAToBeGreaterThanB",
                None,
                {"column_A": a, "column_B": b, "or_equal": p.or_equal, "ignore_row_if": "either_value_is_missing"},
            )
        )
    return plan


_GX_LOCK = threading.Lock()


@functools.cache
def _gx_context() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    ctx = gx.get_context(mode="ephemeral")
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    except Exception:  # progress bars are cosmetic
        log.debug("could not disable GE progress bars", exc_info=True)
    return ctx


@functools.cache
def _validation_definition(spec_name: str, stored: bool) -> Any:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    from ingest.jaki.schemas import spec_for

    spec = spec_for(spec_name)
    ctx = _gx_context()
    tag = f"{spec.table}_{'lake' if stored else 'batch'}"
    ds = ctx.data_sources.add_pandas(f"ds_{tag}")
    asset = ds.add_dataframe_asset(name=tag)
    bd = asset.add_batch_definition_whole_dataframe(f"bd_{tag}")
    suite = ctx.suites.add(gx.ExpectationSuite(name=f"suite_{tag}"))
    for name, cls, column, kwargs in expectation_plan(spec, stored):
        args = dict(kwargs)
        if column is not None:
            args["column"] = column
        exp = getattr(gxe, cls)(**args)
        exp.meta = {"pantau_name": name}
        suite.add_expectation(exp)
    return ctx.validation_definitions.add(gx.ValidationDefinition(name=f"vd_{tag}", data=bd, suite=suite))


def run_ge(
    frame: pl.DataFrame, spec: TableSpec, *, stored: bool = True, sample_rows: int | None = 50_000, seed: int = 0
) -> GEReport:
    """Validate ``frame`` (lake layout when ``stored``) with the GE suite of ``spec``.

    ``sample_rows`` bounds the rows handed to GE (uniform sample; ``None`` = all). Uniqueness on a
    sample is a necessary condition only; the exact check is the vectorised one.
    """
    if sample_rows is not None and frame.height > sample_rows:
        frame = frame.sample(n=sample_rows, seed=seed)
    cols = [c for c in frame.columns if not c.startswith("_")]
    pdf = frame.select(cols).to_pandas()
    with _GX_LOCK:
        vd = _validation_definition(spec.name, stored)
        res = vd.run(batch_parameters={"dataframe": pdf}, result_format="SUMMARY")
    outcomes = []
    for r in res.results:
        cfg = r.expectation_config
        meta = cfg.meta or {}
        outcomes.append(
            ExpectationOutcome(
                name=str(meta.get("pantau_name", cfg.type)),
                expectation=str(cfg.type),
                column=cfg.kwargs.get("column"),
                success=bool(r.success),
                unexpected_count=r.result.get("unexpected_count"),
                observed=r.result.get("observed_value"),
            )
        )
    return GEReport(success=bool(res.success), rows_validated=frame.height, outcomes=tuple(outcomes))
