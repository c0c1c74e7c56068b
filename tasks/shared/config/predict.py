"""Settings of the predict stage: churn risk and future value, the risk tiers, when models are refitted."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RiskTierConfig(BaseModel):
    """Where churn risk becomes a tier: 高 (high) from `high`, 中 (medium) from `medium`, else 低 (low)."""

    model_config = ConfigDict(extra="forbid")

    high: float = Field(
        default=0.7, gt=0, lt=1, description="Churn risk from which a customer is high risk (高)."
    )
    medium: float = Field(
        default=0.4,
        gt=0,
        lt=1,
        description="Churn risk from which a customer is medium risk (中); below is low (低).",
    )

    @model_validator(mode="after")
    def _ordered(self) -> "RiskTierConfig":
        if self.medium >= self.high:
            raise ValueError(f"risk_tiers: medium ({self.medium}) must be below high ({self.high})")
        return self


class PredictConfig(BaseModel):
    """Settings of the predict stage: churn risk and future value per customer, backtested."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        default=True, description="Run the predict stage (off: prediction columns stay empty)."
    )
    horizon_days: int = Field(
        default=90,
        ge=7,
        le=730,
        description="Days ahead a prediction covers: churn = no activity in them; expected purchases and value over them.",
    )
    churn_activity: Literal["purchase", "session"] = Field(
        default="purchase",
        description="What a churned customer stops doing: 'purchase' (payers who pay no more) "
        "or 'session' (players who play no more).",
    )
    backtest_folds: int = Field(
        default=3,
        ge=1,
        le=12,
        description="Rolling backtests: cutoffs 1, 2, ... horizons before as_of, each scored by models "
        "trained one horizon earlier.",
    )
    risk_tiers: RiskTierConfig = Field(
        default_factory=RiskTierConfig, description="Churn-risk thresholds of the risk tiers 高/中/低."
    )
    max_training_rows: int = Field(
        default=100_000,
        ge=1_000,
        description="Models are fitted on at most this many customers of a snapshot (a seeded sample); all are scored.",
    )
    min_customers: int = Field(
        default=100,
        ge=10,
        description="A snapshot with fewer customers (or without both outcomes) is not used to train or to backtest.",
    )
    btyd_penalizer: float = Field(
        default=0.001,
        ge=0,
        description="L2 penalty on the BG/NBD parameters (as in lifetimes): keeps them finite when "
        "the data shows little spread in drop-out; 0 is plain maximum likelihood.",
    )
    random_state: int = Field(
        default=0,
        ge=0,
        le=2**32 - 1,
        description="Seed of the samples and the gradient boosting, so runs repeat.",
    )
    refit_every_days: int = Field(
        default=7, ge=1, description="Days from the fit day after which the predict models are fitted again."
    )
