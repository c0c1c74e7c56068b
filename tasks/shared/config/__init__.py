"""Pipeline configuration: one YAML file, validated once at the edge into typed objects.

The models live by concern (sources, stages, publishing, the pipeline); this package is their
public face, so the rest of the code imports `from tasks.shared.config import PipelineConfig`.
"""

from tasks.shared.config.act import (
    AUDIENCE_SCHEMES,
    ActConfig,
    AudienceConfig,
    LookalikeConfig,
    RecommendationConfig,
    parse_segment_ref,
)
from tasks.shared.config.checks import ConfigError, check_name, check_timezone, check_unique
from tasks.shared.config.pipeline import OrchestrationConfig, PipelineConfig, format_errors, load_config
from tasks.shared.config.predict import PredictConfig, RiskTierConfig
from tasks.shared.config.publishing import DestinationConfig, FieldTransform, PrivacyConfig, ReportConfig
from tasks.shared.config.sources import FILE_FORMATS, ConnectionConfig, SourceConfig, SourceFormat
from tasks.shared.config.stages import (
    DEFAULT_RULES,
    ComparisonConfig,
    DedupeConfig,
    FeatureConfig,
    RfmBinsConfig,
    RuleSegmentConfig,
    SegmentConfig,
)

__all__ = [
    "AUDIENCE_SCHEMES",
    "ActConfig",
    "AudienceConfig",
    "LookalikeConfig",
    "RecommendationConfig",
    "parse_segment_ref",
    "DEFAULT_RULES",
    "ComparisonConfig",
    "FILE_FORMATS",
    "ConfigError",
    "ConnectionConfig",
    "DedupeConfig",
    "DestinationConfig",
    "FeatureConfig",
    "FieldTransform",
    "OrchestrationConfig",
    "PipelineConfig",
    "PredictConfig",
    "PrivacyConfig",
    "ReportConfig",
    "RfmBinsConfig",
    "RiskTierConfig",
    "RuleSegmentConfig",
    "SegmentConfig",
    "SourceConfig",
    "SourceFormat",
    "check_name",
    "check_timezone",
    "check_unique",
    "format_errors",
    "load_config",
]
