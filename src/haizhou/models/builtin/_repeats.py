"""Levels and wording shared by ``repeats.address`` and ``repeats.caller`` (not a model)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from haizhou.domain import Level

__all__ = ["RepeatParams", "count_level"]


class RepeatParams(BaseModel):
    """Parameters of the repeat models."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: int = Field(default=90, ge=7, le=730, description="Days of incidents looked at, days.")
    min_count: int = Field(default=3, ge=2, description="Fewest incidents for a finding, count.")
    yellow_count: int = Field(default=5, ge=2, description="Incidents for yellow, count.")
    orange_count: int = Field(default=8, ge=2, description="Incidents for orange, count.")
    red_count: int = Field(default=12, ge=2, description="Incidents for red, count.")
    half_life_days: float = Field(
        default=30.0, gt=0, description="Half-life of an incident's weight in the score, days."
    )
    category: list[str] | None = Field(
        default=None, description="Incident categories looked at; none for all."
    )
    max_findings: int = Field(default=30, ge=1, le=500, description="Most findings, count.")

    @model_validator(mode="after")
    def _ordered(self) -> RepeatParams:
        if not self.min_count <= self.yellow_count <= self.orange_count <= self.red_count:
            raise ValueError(
                "need min_count <= yellow_count <= orange_count <= red_count; got "
                f"{self.min_count}, {self.yellow_count}, {self.orange_count}, {self.red_count}"
            )
        return self


def count_level(count: int, params: RepeatParams) -> Level:
    """Red / orange / yellow by count thresholds, blue below yellow."""
    if count >= params.red_count:
        return Level.RED
    if count >= params.orange_count:
        return Level.ORANGE
    if count >= params.yellow_count:
        return Level.YELLOW
    return Level.BLUE
